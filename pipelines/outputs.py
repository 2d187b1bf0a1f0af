"""The end of a build: manifest.parquet, rejects.parquet, index.json and run.json, all derived
from the shard markers, so a resumed build writes the same files as a clean one."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import fsspec

from labelmill.fileio import join, read_json, write_json
from labelmill.manifests.write import (
    REJECTS_SCHEMA,
    manifest_schema,
    write_parquet,
    write_parquet_batches,
    write_wids_index,
)
from labelmill.pipelines import label_model_stage
from labelmill.pipelines.plan import Plan
from labelmill.schemas.records import Reject
from labelmill.schemas.targets import target_classes, write_classes

VERSIONED = ("apache-beam", "pyarrow", "pillow", "numpy", "pydicom", "webdataset", "spacy", "torch")
EXAMPLES_PER_REASON = 3


def write_outputs(
    plan: Plan, manifest_rejects: list[Reject], wall: float, rebuilt: int
) -> dict[str, Any]:
    """Write the manifests and run.json; returns the run summary (run.json's content)."""
    output = plan.config.output
    rejects = [r.to_json() for r in manifest_rejects]
    shards: list[dict[str, Any]] = []
    labelers: list[dict[str, Any]] | None = None

    def samples_per_shard() -> Iterator[list[dict[str, Any]]]:
        """Stream the markers: one shard's rows in memory at a time."""
        nonlocal labelers
        for index in range(len(plan.shard_names)):
            marker = read_json(plan.marker_url(index))
            fields = ("shard", "nsamples", "size", "sha256", "md5")
            shards.append({key: marker[key] for key in fields})
            rejects.extend(marker["rejects"])
            labelers = labelers or marker.get("labelers")
            yield marker["samples"]

    classes = target_classes(plan.config)
    write_classes(output, classes)
    schema = manifest_schema(classes)
    write_parquet_batches(join(output, "manifest.parquet"), samples_per_shard(), schema)
    written = sum(s["nsamples"] for s in shards)
    rejects.sort(key=lambda r: r["row"])
    write_parquet(join(output, "rejects.parquet"), rejects, REJECTS_SCHEMA)
    write_wids_index(output, shards)
    by_reason = Counter(r["reason"] for r in rejects)
    examples: dict[str, list[dict[str, Any]]] = {}
    for reject in rejects:
        bucket = examples.setdefault(reject["reason"], [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(reject)
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
            "written": written,
            "rejected": len(rejects),
            "rejected_by_reason": dict(sorted(by_reason.items())),
            "balanced": written + len(rejects) == plan.read,
        },
        "reject_examples": examples,
        "shards": shards,
        "shards_rebuilt": rebuilt,
        "wall_time_s": round(wall, 3),
    }
    write_json(join(output, "run.json"), summary)
    if not summary["counts"]["balanced"]:
        raise RuntimeError(
            f"accounting error: written {written} + rejected {len(rejects)}"
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
