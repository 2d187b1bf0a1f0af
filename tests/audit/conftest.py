"""A small hand-made build folder whose audit numbers are worked out by hand in test_metrics.py.

Four samples, three labelers (manifest harmonized, a report miner, a rules labeler), final
labels from an aggregator that differs from majority vote twice, label maps on two samples,
one reject, and a gold file. Only what the audit reads is written (no manifest.parquet).
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
        "manifest": [("a-raw", "A")],
        "reports": {"A": 1, "B": 0},
        "rules": {"A": 1, "B": 1},
        "final": {"A": 0.9, "B": 0.2},
    },
    "s2": {
        "manifest": [("a-raw", "A")],
        "reports": {"A": 0, "B": 1},
        "rules": {"A": 0, "B": 1},
        "final": {"A": 0.6, "B": 0.7},
    },
    "s3": {
        "manifest": [(UNMAPPED, None)],
        "reports": {"A": -1},
        "rules": {"A": 0},
        "final": {"A": 0.3},
    },
    "s4": {
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
        "meta": "{}",
        "image": {"width": 16, "height": 16, "format": "png", "transforms": "[]", "dicom": "{}"},
        "report": {"present": True, "source": "inline", "chars": 0},
        "records": json.dumps(records, sort_keys=True),
        "final": json.dumps(final, sort_keys=True),
    }
    return doc, "\n".join(report_lines)


def make_build(root: Path) -> Path:
    """Write the hand-made build folder into `root` and return it."""
    (root / "shards").mkdir(parents=True)
    maps = {
        "s1": np.array([[[1, 1, 1, 1]] * 3 + [[2, 2, 2, 2]]], dtype=np.int16),
        "s2": np.zeros((1, 4, 4), dtype=np.int16),
    }
    with wds.TarWriter(str(root / "shards" / "shard-000000.tar")) as sink:
        for key, spec in SAMPLES.items():
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
