"""Harmonization: which raw label strings became which ontology label, how, and which did not.

Two sources, either may be missing: the harmonizer's decisions (run.json's `harmonize` or the
build's `_work/harmonize.json`: a list of decisions, a mapping raw -> decision, or either under
a `decisions` key beside the harmonizer's description), and the manifest records' evidence
({raw, label, status}), which also says how many samples used each string. An image model's
class names mapped in the same step (`class_maps`) are listed beside them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from labelmill.audit.read import ShardSample
from labelmill.audit.stats import rate, rnd
from labelmill.audit.votes import Votes

FIELDS = ("label", "method", "score", "model", "reason")


def decisions(value: Any) -> dict[str, dict[str, Any]]:
    """The harmonizer's per-string decisions, keyed by raw string."""
    if isinstance(value, dict) and "decisions" in value:
        value = value["decisions"]
    if isinstance(value, dict):
        value = [{"raw": raw, **d} for raw, d in value.items() if isinstance(d, dict)]
    if not isinstance(value, list):
        return {}
    return {str(d["raw"]): d for d in value if isinstance(d, dict) and "raw" in d}


class Harmonization:
    """Counts the samples that used each raw string and how it was mapped."""

    def __init__(self, run: dict[str, Any], record: Any) -> None:
        self.decisions = decisions(record)
        self.harmonizer = record.get("harmonizer") if isinstance(record, dict) else None
        maps = record.get("class_maps") if isinstance(record, dict) else None
        self.class_maps = maps if isinstance(maps, dict) else {}
        self.config = (run.get("config") or {}).get("harmonize")
        self.uses: Counter[str] = Counter()
        self.mapped_to: dict[str, str | None] = {}

    def add(self, sample: ShardSample, votes: Votes) -> None:
        for record in votes.records:
            for item in record.evidence:
                if isinstance(item, dict) and "raw" in item and "status" in item:
                    raw = str(item["raw"])
                    self.uses[raw] += 1
                    self.mapped_to.setdefault(raw, item.get("label"))

    def result(self) -> dict[str, Any]:
        rows = []
        for raw in sorted(set(self.uses) | set(self.decisions)):
            decision = self.decisions.get(raw, {})
            row: dict[str, Any] = {"raw": raw, "samples": self.uses[raw]}
            row.update({f: decision.get(f) for f in FIELDS})
            if raw in self.mapped_to and row["label"] is None:
                row["label"] = self.mapped_to[raw]
            row["score"] = rnd(row["score"]) if isinstance(row["score"], int | float) else None
            rows.append(row)
        rows.sort(key=lambda r: (-r["samples"], r["raw"]))
        uses = sum(r["samples"] for r in rows)
        mapped_uses = sum(r["samples"] for r in rows if r["label"])
        return {
            "harmonized": bool(rows),
            "config": self.config,
            "harmonizer": self.harmonizer,
            "decisions_recorded": bool(self.decisions),
            "strings": len(rows),
            "mapped": sum(bool(r["label"]) for r in rows),
            "unmapped": [r["raw"] for r in rows if not r["label"]],
            "uses": uses,
            "mapped_use_rate": rate(mapped_uses, uses),
            "methods": dict(sorted(Counter(str(r["method"]) for r in rows if r["method"]).items())),
            "table": rows,
            "class_maps": [
                _class_map(key, value) for key, value in sorted(self.class_maps.items())
            ],
        }


def _class_map(key: str, value: Any) -> dict[str, Any]:
    """One image model's classes onto one ontology: how many, and the ones that map."""
    found = decisions(value)
    mapped = [
        {"raw": raw, **{f: d.get(f) for f in FIELDS}} for raw, d in found.items() if d.get("label")
    ]
    return {"key": key, "classes": len(found), "mapped": mapped}
