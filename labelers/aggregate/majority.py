"""Abstain-aware majority vote: the share of positive votes among the sources that voted.

A plain tally over Python ints: per sample there are a handful of votes per label, and
numpy arrays of one or two elements cost several times more than the arithmetic they carry.
The result equals the mean of the policy-applied votes (sums of 0s and 1s are exact, so the
one division rounds the same way).
"""

from __future__ import annotations

from collections.abc import Sequence

from labelmill.labelers.aggregate.votes import final_record, policy_value, sample_votes
from labelmill.schemas.records import NEGATIVE, POSITIVE, UNCERTAIN, LabelRecord


def majority(records: Sequence[LabelRecord], labels: Sequence[str], uncertain: str) -> LabelRecord:
    """Probability = positives / (positives + negatives); labels nobody voted on are left out."""
    votes = sample_votes(records, labels)
    as_uncertain = policy_value(uncertain)
    probabilities: dict[str, float] = {}
    for label, by_source in votes.items():
        positive = negative = 0
        for value in by_source.values():
            if value == UNCERTAIN:
                value = as_uncertain
            if value == POSITIVE:
                positive += 1
            elif value == NEGATIVE:
                negative += 1
        if positive or negative:
            probabilities[label] = positive / (positive + negative)
    return final_record("majority", probabilities, votes, uncertain=uncertain)
