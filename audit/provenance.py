"""Provenance: how the build was made and what it dropped, from run.json and rejects.parquet."""

from __future__ import annotations

from collections import Counter
from typing import Any

from labelmill.audit.stats import rate

EXAMPLES = 3


def describe_labelers(run: dict[str, Any]) -> list[dict[str, Any]]:
    """run.json's labeler descriptions, a class list shortened to its length."""
    out = []
    for labeler in run.get("labelers") or []:
        entry = dict(labeler)
        if isinstance(entry.get("classes"), list):
            entry["classes"] = len(entry["classes"])
        out.append(entry)
    return out


def provenance(run: dict[str, Any], rejects: list[dict[str, Any]], streamed: int) -> dict[str, Any]:
    """Config, versions, counts and rejects; `streamed` is how many samples the shards held."""
    counts = dict(run.get("counts") or {})
    by_reason = Counter(str(r.get("reason")) for r in rejects)
    examples: dict[str, list[dict[str, Any]]] = {}
    for reject in rejects:
        bucket = examples.setdefault(str(reject.get("reason")), [])
        if len(bucket) < EXAMPLES:
            bucket.append(reject)
    return {
        "run_json": bool(run),
        "config": run.get("config"),
        "fingerprint": run.get("fingerprint"),
        "versions": run.get("versions") or {},
        "labelers": describe_labelers(run),
        "counts": {
            "read": counts.get("read"),
            "written": counts.get("written"),
            "rejected": counts.get("rejected", len(rejects)),
            "balanced": counts.get("balanced"),
            "streamed": streamed,
            "reject_rate": rate(len(rejects), counts.get("read") or 0),
        },
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "reject_examples": dict(sorted(examples.items())),
        "shards": len(run.get("shards") or []),
        "wall_time_s": run.get("wall_time_s"),
    }
