"""What decided a labeler's vote on one label, as a reader can check it: the report sentence
with the mention's character span, the raw source string a harmonized label came from, or the
image model's score. One reading for the report-mining examples and the suspect samples."""

from __future__ import annotations

from typing import Any

from labelmill.audit.stats import rnd
from labelmill.schemas.records import LabelRecord


def mention(item: dict[str, Any], report: str) -> str:
    """The report text an evidence item points at, or "" when its span does not fit the report."""
    start, end = item.get("start"), item.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(report):
        return report[start:end]
    return ""


def sentence_evidence(item: dict[str, Any], report: str) -> dict[str, Any]:
    return {
        "kind": "sentence",
        "status": item.get("status"),
        "sentence": str(item.get("sentence")),
        "mention": mention(item, report),
        "section": item.get("section"),
        "trigger": item.get("trigger"),
    }


def deciding(record: LabelRecord, label: str, report: str) -> dict[str, Any] | None:
    """The evidence behind `record`'s vote on `label`; a sentence whose status is the vote
    (several mentions combine, the one that won decides), else the first one about the label."""
    items = [e for e in record.evidence if isinstance(e, dict) and e.get("label") == label]
    value = record.labels.get(label)
    sentences = [e for e in items if e.get("sentence")]
    if sentences:
        chosen = next((e for e in sentences if e.get("status") == value), sentences[0])
        return sentence_evidence(chosen, report)
    raw = next((e for e in items if "raw" in e), None)
    if raw is not None:
        return {"kind": "raw", "raw": str(raw["raw"])}
    if label in record.scores:
        return {"kind": "score", "score": rnd(float(record.scores[label]))}
    trigger = next((e.get("trigger") for e in items if e.get("trigger")), None)
    return {"kind": "rule", "trigger": str(trigger)} if trigger else None
