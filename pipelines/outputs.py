"""The end of a build: manifest.parquet, rejects.parquet, index.json and run.json, all derived
from the shard markers, so a resumed build writes the same files as a clean one."""

from __future__ import annotations

import platform
from collections import Counter
from importlib import metadata
from typing import Any

import fsspec

from labelmill.fileio import join, read_json, write_json
from labelmill.manifests.write import (
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    write_parquet,
    write_wids_index,
)
from labelmill.pipelines import label_model_stage
from labelmill.pipelines.plan import Plan
from labelmill.schemas.records import Reject

VERSIONED = ("apache-beam", "pyarrow", "pillow", "numpy", "pydicom", "webdataset", "spacy", "torch")
EXAMPLES_PER_REASON = 3


def write_outputs(
    plan: Plan, manifest_rejects: list[Reject], wall: float, rebuilt: int
) -> dict[str, Any]:
    """Write the manifests and run.json; returns the run summary (run.json's content)."""
    output = plan.config.output
    markers = [read_json(plan.marker_url(i)) for i in range(len(plan.shard_names))]
    samples = [row for m in markers for row in m["samples"]]
    rejects = [r.to_json() for r in manifest_rejects] + [r for m in markers for r in m["rejects"]]
    rejects.sort(key=lambda r: r["row"])
    write_parquet(join(output, "manifest.parquet"), samples, MANIFEST_SCHEMA)
    write_parquet(join(output, "rejects.parquet"), rejects, REJECTS_SCHEMA)
    write_wids_index(output, markers)
    by_reason = Counter(r["reason"] for r in rejects)
    examples: dict[str, list[dict[str, Any]]] = {}
    for reject in rejects:
        bucket = examples.setdefault(reject["reason"], [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(reject)
    labelers = next((m["labelers"] for m in markers if m.get("labelers")), None)
    summary = {
        "config": plan.config.to_json(),
        "fingerprint": plan.fingerprint,
        "image_ext": plan.image_ext,
        "versions": versions(),
        "labelers": labelers or [{"source": spec.name} for spec in plan.config.labelers],
        "harmonize": _optional(join(plan.work, "harmonize.json")),
        "label_model": label_model_stage.learned(plan),
        "counts": {
            "read": plan.read,
            "written": len(samples),
            "rejected": len(rejects),
            "rejected_by_reason": dict(sorted(by_reason.items())),
            "balanced": len(samples) + len(rejects) == plan.read,
        },
        "reject_examples": examples,
        "shards": [
            {key: m[key] for key in ("shard", "nsamples", "size", "sha256")} for m in markers
        ],
        "shards_rebuilt": rebuilt,
        "wall_time_s": round(wall, 3),
    }
    write_json(join(output, "run.json"), summary)
    if not summary["counts"]["balanced"]:
        raise RuntimeError(
            f"accounting error: written {len(samples)} + rejected {len(rejects)}"
            f" != read {plan.read}"
        )
    return summary


def _optional(url: str) -> Any:
    fs, path = fsspec.core.url_to_fs(url)
    return read_json(url) if fs.exists(path) else None


def versions() -> dict[str, str]:
    """Versions of labelmill, Python and the packages that decide a build's bytes."""
    found = {"labelmill": metadata.version("labelmill"), "python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
