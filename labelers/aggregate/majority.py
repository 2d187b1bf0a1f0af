"""Abstain-aware majority vote: the share of positive votes among the sources that voted."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labelmill.labelers.aggregate.votes import apply_policy, as_number, final_record, sample_votes
from labelmill.schemas.records import LabelRecord


def majority(records: Sequence[LabelRecord], labels: Sequence[str], uncertain: str) -> LabelRecord:
    """Probability = positives / (positives + negatives); labels nobody voted on are left out."""
    votes = sample_votes(records, labels)
    probabilities: dict[str, float] = {}
    for label, by_source in votes.items():
        row = apply_policy(np.array([as_number(v) for v in by_source.values()]), uncertain)
        if not np.isnan(row).all():
            probabilities[label] = float(np.nanmean(row))
    return final_record("majority", probabilities, votes, uncertain=uncertain)
