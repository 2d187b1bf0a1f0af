"""A small hand-made build folder whose audit numbers are worked out by hand in test_metrics.py.

Four samples at two sites, three labelers (manifest harmonized, a report miner, a rules
labeler), final labels from an aggregator that differs from majority vote twice, label maps on
two samples, one reject, and a gold file. Only what the audit reads is written (no
manifest.parquet).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from PIL import Image

from labelmill.manifests.write import REJECTS_SCHEMA

CLASSES = ["background", "lung", "heart"]
UNMAPPED = "<script>x</script> & co"  # markup in data must reach the page escaped

# key -> (manifest raw strings and their mapping, report votes, rules votes, final labels, scores)
SAMPLES: dict[str, dict[str, Any]] = {
    "s1": {
        "site": "A",
        "manifest": [("a-raw", "A")],
        "reports": {"A": 1, "B": 0},
        "rules": {"A": 1, "B": 1},
        "final": {"A": 0.9, "B": 0.2},
    },
    "s2": {
        "site": "A",
        "manifest": [("a-raw", "A")],
        "reports": {"A": 0, "B": 1},
        "rules": {"A": 0, "B": 1},
        "final": {"A": 0.6, "B": 0.7},
    },
    "s3": {
        "site": "B",
        "manifest": [(UNMAPPED, None)],
        "reports": {"A": -1},
        "rules": {"A": 0},
        "final": {"A": 0.3},
    },
    "s4": {
        "site": "B",
        "manifest": [("b raw", "B")],
        "reports": {"B": 1, "A": 0},
        "rules": {"A": 0, "B": 0},
        "final": {"A": 0.1, "B": 0.95},
    },
}

GOLD_CSV = "id,A,B\ns1,1,0\ns2,1,\ns3,0,0\ns4,0,1\nzz,1,1\n"

SENTENCES = {1: "There is {}.", 0: "No {}.", -1: "Possible {}."}


def _png() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.linspace(0, 255, 16 * 16).reshape(16, 16).astype(np.uint8)).save(
        out, format="PNG"
    )
    return out.getvalue()


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def _doc(key: str, spec: dict[str, Any]) -> tuple[dict[str, Any], str]:
    report_lines, evidence, offset = [], [], 0
    for label, status in spec["reports"].items():
        sentence = SENTENCES[status].format(f"finding {label}")
        start = offset + sentence.index("finding")
        evidence.append(
            {
                "label": label,
                "status": status,
                "sentence": sentence,
                "start": start,
                "end": start + len(f"finding {label}"),
                "section": "findings",
                "trigger": None if status == 1 else "cue",
            }
        )
        report_lines.append(sentence)
        offset += len(sentence) + 1
    manifest = {
        "source": "manifest",
        "labels": {label: 1 for _, label in spec["manifest"] if label},
        "scores": {},
        "evidence": [
            {"raw": raw, "label": label, "status": "mapped" if label else "unmapped"}
            for raw, label in spec["manifest"]
        ],
        "meta": {"harmonized": True},
    }
    records = [
        manifest,
        {
            "source": "reports/demo",
            "labels": spec["reports"],
            "scores": {},
            "evidence": evidence,
            "meta": {},
        },
        {"source": "rules", "labels": spec["rules"], "scores": {}, "evidence": [], "meta": {}},
    ]
    final = {
        "source": "aggregate/dawid-skene",
        "labels": {k: int(p >= 0.5) for k, p in spec["final"].items()},
        "scores": spec["final"],
        "evidence": [],
        "meta": {"method": "dawid-skene", "uncertain": "ignore"},
    }
    doc = {  # the schema-stable layout of schemas/sample.py: variable parts are JSON text
        "id": key,
        "key": key,
        "row": int(key[1:]),
        "meta": json.dumps({"site": spec["site"]}),
        "image": {"width": 16, "height": 16, "format": "png", "transforms": "[]", "dicom": "{}"},
        "report": {"present": True, "source": "inline", "chars": 0},
        "records": json.dumps(records, sort_keys=True),
        "final": json.dumps(final, sort_keys=True),
    }
    return doc, "\n".join(report_lines)


def make_build(root: Path, samples: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write the hand-made build folder (or one of other `samples` in its format) into `root`."""
    samples = SAMPLES if samples is None else samples
    (root / "shards").mkdir(parents=True)
    maps = {
        "s1": np.array([[[1, 1, 1, 1]] * 3 + [[2, 2, 2, 2]]], dtype=np.int16),
        "s2": np.zeros((1, 4, 4), dtype=np.int16),
    }
    with wds.TarWriter(str(root / "shards" / "shard-000000.tar")) as sink:
        for key, spec in samples.items():
            doc, report = _doc(key, spec)
            members = {
                "__key__": key,
                "json": json.dumps(doc, sort_keys=True).encode(),
                "png": _png(),
                "txt": report.encode(),
            }
            if key in maps:
                members["labelmap_idx.npy"] = _npy(maps[key])
                members["labelmap_score.npy"] = _npy(np.full(maps[key].shape, 0.5, np.float16))
            sink.write(members)
    reject = {
        "row": 5,
        "id": "s5",
        "stage": "image",
        "reason": "file_not_found",
        "detail": "images/s5.png: no such file",
    }
    (root / "rejects").mkdir()
    rejects = pa.Table.from_pylist([reject], schema=REJECTS_SCHEMA)
    pq.write_table(rejects, root / "rejects" / "part-000000.parquet")
    run = {
        "config": {"input": "in.csv", "output": str(root), "harmonize": {"ontology": "demo"}},
        "fingerprint": "f" * 64,
        "versions": {"labelmill": "0.1.0", "python": "3.11"},
        "labelers": [
            {"source": "manifest", "harmonized": True},
            {"source": "reports/demo", "ontology": "demo"},
            {"source": "rules"},
            {"source": "image/demo", "classes": CLASSES},
        ],
        "harmonize": {
            "decisions": [
                {"raw": "a-raw", "label": "A", "method": "lexical", "score": 1.0},
                {"raw": "b raw", "label": "B", "method": "embedding", "score": 0.8123456789},
                {
                    "raw": UNMAPPED,
                    "label": None,
                    "method": "unmapped",
                    "score": 0.31,
                    "reason": "below threshold",
                },
            ]
        },
        "counts": {
            "read": 5,
            "written": 4,
            "rejected": 1,
            "rejected_by_reason": {"file_not_found": 1},
            "balanced": True,
        },
        "reject_examples": {"file_not_found": [reject]},
        "shards": [{"shard": "shards/shard-000000.tar", "nsamples": 4, "size": 0, "sha256": ""}],
        "wall_time_s": 1.5,
    }
    (root / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True))
    return root


@pytest.fixture(scope="session")
def hand_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_build(tmp_path_factory.mktemp("hand_build"))


@pytest.fixture(scope="session")
def gold_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gold") / "gold.csv"
    path.write_text(GOLD_CSV)
    return path


# A large synthetic build in the same layout, to measure how the page grows with samples,
# labels and classes (it must not: plots summarise, tables cap).
SYN_FINDINGS = [f"Finding_{i}" for i in range(14)]
SYN_CLASSES = [f"class {i}, a long ImageNet-style name" for i in range(1000)]
SYN_RAW = [f"raw label {i}" for i in range(300)]
SYN_SITES = [f"site-{i}" for i in range(30)]


def synthetic_build(root: Path, n: int, per_shard: int = 1000, seed: int = 0) -> Path:
    """`n` samples with a report miner, raw manifest labels, an image model with 1000 classes
    and label maps, final labels, and site/view metadata."""
    rng = np.random.default_rng(seed)
    (root / "shards").mkdir(parents=True)
    image = _png()
    shards = []
    for start in range(0, n, per_shard):
        name = f"shards/shard-{start // per_shard:06d}.tar"
        with wds.TarWriter(str(root / name)) as sink:
            for i in range(start, min(n, start + per_shard)):
                key = f"k{i:07d}"
                found = rng.choice(len(SYN_FINDINGS), 4, replace=False)
                mined = {SYN_FINDINGS[j]: int(rng.choice([1, 0, 0, -1])) for j in found}
                report = " ".join(f"Sentence about {label}." for label in mined)
                evidence, offset = [], 0
                for label, status in mined.items():
                    sentence = f"Sentence about {label}."
                    start_at = offset + sentence.index(label)
                    evidence.append(
                        {
                            "label": label,
                            "status": status,
                            "sentence": sentence,
                            "start": start_at,
                            "end": start_at + len(label),
                            "section": "findings",
                        }
                    )
                    offset += len(sentence) + 1
                top = rng.choice(len(SYN_CLASSES), 5, replace=False)
                records = [
                    {"source": "manifest", "labels": {SYN_RAW[int(rng.integers(len(SYN_RAW)))]: 1}},
                    {"source": "reports/demo", "labels": mined, "evidence": evidence},
                    {
                        "source": "image/demo",
                        "labels": {SYN_CLASSES[c]: 1 for c in top},
                        "scores": {SYN_CLASSES[c]: float(rng.random()) for c in top},
                    },
                ]
                p = {label: round(float(rng.random()), 6) for label in mined}
                final = {
                    "source": "aggregate/dawid-skene",
                    "labels": {k: int(v >= 0.5) for k, v in p.items()},
                    "scores": p,
                    "meta": {"method": "dawid-skene", "uncertain": "ignore"},
                }
                meta = {"site": SYN_SITES[i % len(SYN_SITES)], "view": "PA" if i % 3 else "AP"}
                doc = {
                    "id": key,
                    "key": key,
                    "row": i + 1,
                    "meta": json.dumps(meta),
                    "image": {"format": "png", "transforms": "[]", "dicom": "{}"},
                    "report": {"present": True, "source": "inline", "chars": len(report)},
                    "records": json.dumps(records),
                    "final": json.dumps(final),
                }
                grid = rng.choice(top, size=(1, 15, 15)).astype(np.int16)
                sink.write(
                    {
                        "__key__": key,
                        "json": json.dumps(doc).encode(),
                        "png": image,
                        "txt": report.encode(),
                        "labelmap_idx.npy": _npy(grid),
                    }
                )
        shards.append({"shard": name, "nsamples": min(n, start + per_shard) - start})
    run = {
        "config": {"aggregate": {"method": "dawid-skene"}},
        "labelers": [{"source": "image/demo", "model": "demo", "classes": SYN_CLASSES}],
        "counts": {"read": n, "written": n, "rejected": 0, "balanced": True},
        "shards": shards,
    }
    (root / "run.json").write_text(json.dumps(run))
    return root


@pytest.fixture(scope="session")
def synthetic() -> Any:
    """The synthetic build writer: `synthetic(root, n, per_shard=1000)`."""
    return synthetic_build


@pytest.fixture(scope="session", name="make_build")
def make_build_fixture() -> Any:
    """The hand-made build writer, for tests that need other samples in the same layout."""
    return make_build
