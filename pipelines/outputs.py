"""The end of a build: index.json and run.json from the per-shard stats, on one worker.

The manifest and rejects parts were written by the workers that built each shard; this step
only sees one small stats entry per shard (tars, counts by reason, capped reject examples), so
it costs per shard, never per row. It also removes what an earlier build of the same output left
behind and this one does not list (shards of a shrunk input, temporary files of a killed run),
with one listing per output folder.
"""

from __future__ import annotations

import json
import platform
import time
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import fsspec

from labelmill.fileio import join, read_json, write_json
from labelmill.manifests.write import (
    REJECTS_SCHEMA,
    manifest_schema,
    write_parquet,
    write_wids_index,
)
from labelmill.pipelines.plan import WORK, Plan
from labelmill.schemas.targets import target_classes, write_classes

TEMP_MARK = ".tmp-"  # fileio writes every file through NAME.tmp-XXXX, then renames it
VERSIONED = ("apache-beam", "pyarrow", "pillow", "numpy", "pydicom", "webdataset", "spacy", "torch")


def write_outputs(
    stats: Sequence[dict[str, Any]],
    plan: Plan,
    read: int,
    examples: dict[str, list[dict[str, Any]]],
    labelers: Sequence[str] = (),
    image_ext: str = "",
    model: dict[str, Any] | None = None,
    started: float = 0.0,
) -> dict[str, Any]:
    """Write index.json and run.json (a build's last file); returns run.json's content.

    `stats`: one small entry per shard; `examples`: the first rejects of each reason;
    `labelers`: the distinct labeler descriptions the shards reported, as JSON text."""
    output = plan.config.output
    stats = sorted(stats, key=lambda s: s["index"])
    tars = [tar for s in stats for tar in s["tars"]]
    remove_stale(plan, stats)
    classes = target_classes(plan.config)
    write_classes(output, classes)
    if not stats:  # an input without rows still reads as two (empty) tables
        for kind, schema in (("manifest", manifest_schema(classes)), ("rejects", REJECTS_SCHEMA)):
            write_parquet(plan.part_url(kind, 0), [], schema)
    write_wids_index(output, tars)
    by_reason: Counter[str] = Counter()
    for shard in stats:
        by_reason.update(shard["rejected_by_reason"])
    written = sum(s["written"] for s in stats)
    rejected = sum(s["rejected"] for s in stats)
    described = [json.loads(text) for text in sorted(labelers)]
    labelers_seen = next((d for d in described if d), None)
    summary = {
        "config": plan.config.to_json(),
        "fingerprint": plan.fingerprint,
        "image_ext": image_ext,
        "versions": versions(),
        "labelers": labelers_seen or [{"source": s.name} for s in plan.config.labelers],
        "harmonize": _optional(join(plan.work, "harmonize.json")),
        "label_model": model["learned"] if model else None,
        "counts": {
            "read": read,
            "written": written,
            "rejected": rejected,
            "rejected_by_reason": dict(sorted(by_reason.items())),
            "balanced": written + rejected == read,
        },
        "reject_examples": dict(sorted(examples.items())),
        "shards": [
            {k: tar[k] for k in ("shard", "nsamples", "size", "sha256", "md5")} for tar in tars
        ],
        "shards_rebuilt": sum(1 for s in stats if s["rebuilt"]),
        "wall_time_s": round(time.time() - started, 3) if started else None,
    }
    write_json(join(output, "run.json"), summary)
    return summary


def remove_stale(plan: Plan, stats: Sequence[dict[str, Any]]) -> list[str]:
    """Delete files in shards/, manifest/, rejects/ and _work/shards/ that this build does not
    list (or that a killed run left half-written), and the temporary files a killed run left in
    the output folder itself; returns what was removed."""
    parts = {f"part-{s['index']:06d}.parquet" for s in stats}
    keep = {
        "shards": {tar["shard"].rsplit("/", 1)[-1] for s in stats for tar in s["tars"]},
        "manifest": parts,
        "rejects": parts,
        f"{WORK}/shards": {plan.marker_url(s["index"]).rsplit("/", 1)[-1] for s in stats},
    }
    fs, root = fsspec.core.url_to_fs(plan.config.output)
    removed = []
    # The output's own files (index.json, run.json, ...) are written through a temporary
    # `NAME.tmp-XXXX` beside them: one that a kill left half-written is never a build's file.
    for name in fs.ls(root, detail=False) if fs.isdir(root) else ():
        if TEMP_MARK in name.rstrip("/").rsplit("/", 1)[-1] and fs.isfile(name):
            fs.rm(name)
            removed.append(name)
    for folder, names in keep.items():
        path = f"{root.rstrip('/')}/{folder}"
        if not fs.isdir(path):
            continue
        for name in fs.ls(path, detail=False):
            if name.rstrip("/").rsplit("/", 1)[-1] not in names:
                fs.rm(name, recursive=True)
                removed.append(name)
    return removed


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
