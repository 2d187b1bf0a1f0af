"""A sample's votes per labeler, read the same way the aggregator reads them.

Reuses the aggregator's `vote()` (labels first, else scores at 0.5, errors kept apart) and its
crosswalk implications onto the final record's labels, so a number in the audit and a vote in
the final record always mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelmill.labelers.aggregate.majority import majority
from labelmill.labelers.aggregate.votes import (
    ABSTAIN,
    add_implied,
    source_names,
    vote,
)
from labelmill.schemas.records import NEGATIVE, POSITIVE, UNCERTAIN, LabelRecord

FINAL = "final"
VALUES = (POSITIVE, NEGATIVE, UNCERTAIN)


def record_from_json(data: dict[str, Any]) -> LabelRecord:
    return LabelRecord(
        source=str(data.get("source", "")),
        labels=dict(data.get("labels") or {}),
        scores=dict(data.get("scores") or {}),
        evidence=list(data.get("evidence") or []),
        meta=dict(data.get("meta") or {}),
    )


@dataclass
class Votes:
    """One sample's votes: `by_source[source][label]` is 1, 0, -1 or "error" (abstentions left
    out); `final` is the aggregator's label and `final_scores` its probability, per label."""

    key: str
    id: str
    by_source: dict[str, dict[str, Any]]
    has_final: bool
    final: dict[str, int]
    final_scores: dict[str, float]
    records: list[LabelRecord]


def sample_votes(doc: dict[str, Any]) -> Votes:
    """Votes of every record of a `{key}.json` document (the final record excluded)."""
    records = [record_from_json(r) for r in doc.get("records") or []]
    final = doc.get("final") or {}
    wanted = final.get("labels") or {}
    by_source: dict[str, dict[str, Any]] = {}
    for name, record in zip(source_names(records), records, strict=True):
        mentioned = dict.fromkeys([*record.labels, *record.scores])
        cast = {label: vote(record, label) for label in mentioned}
        add_implied(record, cast, wanted)
        by_source[name] = {k: v for k, v in cast.items() if v is not ABSTAIN}
    return Votes(
        key=str(doc.get("key", "")),
        id=str(doc.get("id", "")),
        by_source=by_source,
        has_final=bool(final),
        final={k: int(v) for k, v in (final.get("labels") or {}).items() if v in VALUES},
        final_scores={k: float(v) for k, v in (final.get("scores") or {}).items()},
        records=records,
    )


def consensus(votes: Votes) -> dict[str, float]:
    """P(label) per label: the final labels' probability, or without an aggregator the majority
    vote's (abstain-aware, uncertain ignored), so every build has one reading to compare with."""
    if votes.has_final:
        return votes.final_scores
    labels = sorted({label for cast in votes.by_source.values() for label in cast})
    return dict(majority(votes.records, labels, "ignore").scores)
