"""Turning labelers' records into votes, and the CheXpert policy for uncertain ones.

A source's vote on a label is one of: 1, 0, -1 (uncertain), ABSTAIN (the source says nothing
about the label) or ERROR (the source failed on this sample). They are kept apart in what is
stored, and only 1 and 0 (after the uncertain policy) enter the arithmetic: an error is never
read as a negative, and an abstention never as a vote.

A record may vote in another ontology than the one aggregated onto (a report miner on chexpert,
manifest labels in PadChest's names): the crosswalk table turns such names into votes on the
aggregated labels (`add_implied`), so "Pleural Effusion" counts for "Effusion" and a present
"hydropneumothorax" for both Effusion and Pneumothorax.
"""

from __future__ import annotations

import math
from collections.abc import Container, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from labelmill.schemas.crosswalk import Implied, load_crosswalk
from labelmill.schemas.records import NEGATIVE, POSITIVE, UNCERTAIN, LabelRecord

ABSTAIN = None
ERROR = "error"
POLICIES = ("ignore", "zero", "one")
# The CheXpert labeler's names (U-Ignore, U-Zeros, U-Ones) for the same policies.
CHEXPERT_POLICIES = {"keep": "ignore", "zeros": "zero", "ones": "one"}
SCORE_THRESHOLD = 0.5
_POLICY_VALUE: dict[str, float | None] = {"ignore": None, "zero": 0.0, "one": 1.0}

Vote = int | str | None
VALUES = (POSITIVE, NEGATIVE, UNCERTAIN)
# Which implied vote wins where several names (or a name and the label itself) meet on a label.
_RANK = {ABSTAIN: 0, NEGATIVE: 1, UNCERTAIN: 2, POSITIVE: 3}


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
        return value if value in VALUES else ERROR
    if label in record.scores:
        return _score_vote(record.scores[label])
    return ABSTAIN


def _score_vote(score: Any) -> Vote:
    value = float(score)
    if not math.isfinite(value):
        return ERROR
    return POSITIVE if value >= SCORE_THRESHOLD else NEGATIVE


def sample_votes(
    records: Sequence[LabelRecord], labels: Sequence[str]
) -> dict[str, dict[str, Vote]]:
    """label -> source -> vote, for one sample; this is what the final record stores.

    The same votes as `vote` for every pair, found by walking each record's own labels and
    scores once: this runs per sample, and most records mention few of the labels. Names of
    other ontologies add their votes through the crosswalk."""
    votes: dict[str, dict[str, Vote]] = {label: {} for label in labels}
    for name, record in zip(source_names(records), records, strict=True):
        cast = _record_votes(record, votes)
        add_implied(record, cast, votes)
        for label, by_source in votes.items():
            by_source[name] = cast[label]
    return votes


def _record_votes(record: LabelRecord, wanted: dict[str, Any]) -> dict[str, Vote]:
    """One record's vote on each wanted label (labels take precedence over scores)."""
    if record.meta.get("error"):
        return dict.fromkeys(wanted, ERROR)
    out: dict[str, Vote] = dict.fromkeys(wanted, ABSTAIN)
    for label, score in record.scores.items():
        if label in out and label not in record.labels:
            out[label] = _score_vote(score)
    for label, value in record.labels.items():
        if label in out:
            out[label] = value if value in VALUES else ERROR
    return out


@lru_cache(maxsize=1)
def _implied_by() -> dict[str, tuple[Implied, ...]]:
    return load_crosswalk().implied_by()


def add_implied(record: LabelRecord, out: dict[str, Vote], wanted: Container[str]) -> None:
    """Merge into `out` the votes `record` casts on `wanted` labels through names of other
    ontologies: present beats uncertain beats absent; a narrower name's absence says nothing;
    errors are left alone. Names that are wanted labels themselves vote only as themselves."""
    if record.meta.get("error"):
        return
    implied = _implied_by()
    for label, score in record.scores.items():
        if label in implied and label not in record.labels and label not in wanted:
            _imply(out, implied[label], _score_vote(score), wanted)
    for label, value in record.labels.items():
        if label in implied and label not in wanted:
            _imply(out, implied[label], value, wanted)


def _imply(
    out: dict[str, Vote], targets: tuple[Implied, ...], value: Any, wanted: Container[str]
) -> None:
    if value not in VALUES:
        return
    for target in targets:
        if target.label not in wanted:
            continue
        current = out.get(target.label, ABSTAIN)
        if target.narrower and value == NEGATIVE or current == ERROR:
            continue
        if _RANK[value] > _RANK[current]:
            out[target.label] = value


def as_number(value: Vote) -> float:
    """A vote in a vote matrix: 1.0, 0.0, -1.0, or NaN for abstain and error."""
    return float(value) if value in VALUES else math.nan


def policy_value(uncertain: str) -> float | None:
    """What an uncertain vote becomes under the policy: 0, 1, or None (not counted)."""
    return _POLICY_VALUE[check_policy(uncertain)]


def apply_policy(votes: np.ndarray, uncertain: str) -> np.ndarray:
    """A vote matrix (1, 0, -1, NaN) with -1 replaced as the policy says (NaN when ignored)."""
    value = policy_value(uncertain)
    out = np.asarray(votes, dtype=float).copy()
    out[out == UNCERTAIN] = math.nan if value is None else value
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
