"""Turning labelers' records into votes, and the CheXpert policy for uncertain ones.

A source's vote on a label is one of: 1, 0, -1 (uncertain), ABSTAIN (the source says nothing
about the label) or ERROR (the source failed on this sample). They are kept apart in what is
stored, and only 1 and 0 (after the uncertain policy) enter the arithmetic: an error is never
read as a negative, and an abstention never as a vote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from labelmill.schemas.records import NEGATIVE, POSITIVE, UNCERTAIN, LabelRecord

ABSTAIN = None
ERROR = "error"
POLICIES = ("ignore", "zero", "one")
# The CheXpert labeler's names (U-Ignore, U-Zeros, U-Ones) for the same policies.
CHEXPERT_POLICIES = {"keep": "ignore", "zeros": "zero", "ones": "one"}
SCORE_THRESHOLD = 0.5

Vote = int | str | None


def check_policy(uncertain: str) -> str:
    if uncertain not in POLICIES:
        raise ValueError(f"uncertain must be one of {', '.join(POLICIES)}, not {uncertain!r}")
    return uncertain


def source_names(records: Sequence[LabelRecord]) -> list[str]:
    """Each record's source, with '#2', '#3' appended to repeats so that no vote is overwritten."""
    seen: dict[str, int] = {}
    names = []
    for record in records:
        seen[record.source] = seen.get(record.source, 0) + 1
        count = seen[record.source]
        names.append(record.source if count == 1 else f"{record.source}#{count}")
    return names


def vote(record: LabelRecord, label: str) -> Vote:
    """One source's vote on one label: its `labels` value, else its score thresholded at 0.5."""
    if record.meta.get("error"):
        return ERROR
    if label in record.labels:
        value = record.labels[label]
        return value if value in (POSITIVE, NEGATIVE, UNCERTAIN) else ERROR
    if label in record.scores:
        score = float(record.scores[label])
        if not math.isfinite(score):
            return ERROR
        return POSITIVE if score >= SCORE_THRESHOLD else NEGATIVE
    return ABSTAIN


def sample_votes(
    records: Sequence[LabelRecord], labels: Sequence[str]
) -> dict[str, dict[str, Vote]]:
    """label -> source -> vote, for one sample; this is what the final record stores."""
    names = source_names(records)
    return {
        label: {n: vote(r, label) for n, r in zip(names, records, strict=True)} for label in labels
    }


def as_number(value: Vote) -> float:
    """A vote in a vote matrix: 1.0, 0.0, -1.0, or NaN for abstain and error."""
    return float(value) if value in (POSITIVE, NEGATIVE, UNCERTAIN) else math.nan


def apply_policy(votes: np.ndarray, uncertain: str) -> np.ndarray:
    """A vote matrix (1, 0, -1, NaN) with -1 replaced as the policy says (NaN when ignored)."""
    check_policy(uncertain)
    out = np.asarray(votes, dtype=float).copy()
    out[out == UNCERTAIN] = {"ignore": math.nan, "zero": 0.0, "one": 1.0}[uncertain]
    bad = ~np.isnan(out) & (out != 0.0) & (out != 1.0)
    if bad.any():
        raise ValueError(f"votes must be 1, 0, -1 or NaN; found {np.unique(out[bad])[:5]}")
    return out


def final_record(
    method: str, probabilities: dict[str, float], votes: dict[str, dict[str, Vote]], **meta: Any
) -> LabelRecord:
    """The aggregate record: label = probability >= 0.5 (the score convention of the votes)."""
    return LabelRecord(
        source=f"aggregate/{method}",
        labels={k: int(p >= SCORE_THRESHOLD) for k, p in probabilities.items()},
        scores={k: round(float(p), 6) for k, p in probabilities.items()},
        meta={"method": method, **meta, "votes": votes},
    )
