"""A label model over all labelers: one Dawid-Skene per label, fitted once on every sample.

The build fits it in the launcher on all samples' records (the votes of the whole dataset are
what reveal each source's quality), stores it as plain JSON, and applies it per sample on the
workers. Sources the model has not seen are stored with the sample but do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelmill.labelers.aggregate.dawid_skene import DawidSkene
from labelmill.labelers.aggregate.votes import (
    apply_policy,
    as_number,
    check_policy,
    final_record,
    sample_votes,
)
from labelmill.schemas.records import LabelRecord


@dataclass
class LabelModel:
    """Fitted per-label models over a fixed list of sources."""

    labels: tuple[str, ...]
    sources: tuple[str, ...]
    uncertain: str
    models: dict[str, DawidSkene]
    # (label, votes over sources) -> probability or None: a posterior depends only on the
    # pattern, and a dataset has few patterns, so each is computed once per worker.
    _seen: dict[tuple[str, tuple[Any, ...]], float | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def probability(self, label: str, votes: dict[str, Any]) -> float | None:
        """P(label) for one sample's votes on it; None when no counted vote is cast."""
        key = (label, tuple(votes.get(s) for s in self.sources))
        if key not in self._seen:
            row = np.array([as_number(v) for v in key[1]], dtype=float)
            voted = not np.isnan(apply_policy(row, self.uncertain)).all()
            model = self.models[label]
            self._seen[key] = float(model.predict_proba(row)[0]) if voted else None
        return self._seen[key]

    def vote_row(self, votes: dict[str, Any]) -> np.ndarray:
        """One sample's votes on one label as a row over `sources` (NaN where silent)."""
        return np.array([as_number(votes.get(s)) for s in self.sources], dtype=float)

    def aggregate(self, records: Sequence[LabelRecord]) -> LabelRecord:
        """The final record of one sample; labels without any counted vote are left out."""
        votes = sample_votes(records, self.labels)
        probabilities: dict[str, float] = {}
        for label in self.models:
            probability = self.probability(label, votes[label])
            if probability is not None:
                probabilities[label] = probability
        unfitted = sorted({s for v in votes.values() for s in v} - set(self.sources))
        return final_record(
            "dawid-skene", probabilities, votes, uncertain=self.uncertain, unfitted=unfitted
        )

    def describe(self) -> dict[str, Any]:
        """Per label and source: the learned sensitivity, specificity and accuracy (run.json)."""
        out: dict[str, Any] = {}
        for label, m in self.models.items():
            out[label] = {
                "prior": round(m.prior_, 4),
                "sources": {
                    s: {
                        "sensitivity": round(float(m.sensitivity_[j]), 4),
                        "specificity": round(float(m.specificity_[j]), 4),
                        "accuracy": round(float(m.accuracy_[j]), 4),
                    }
                    for j, s in enumerate(self.sources)
                },
            }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "sources": list(self.sources),
            "uncertain": self.uncertain,
            "models": {k: m.to_json() for k, m in self.models.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabelModel:
        return cls(
            labels=tuple(data["labels"]),
            sources=tuple(data["sources"]),
            uncertain=data["uncertain"],
            models={k: DawidSkene.from_json(m) for k, m in data["models"].items()},
        )


def fit_label_model(
    records_per_sample: Sequence[Sequence[LabelRecord]],
    labels: Sequence[str],
    uncertain: str = "ignore",
    symmetric: bool = False,
) -> LabelModel:
    """Fit one Dawid-Skene per label on every sample's records; labels nobody voted on get none."""
    check_policy(uncertain)
    per_sample = [sample_votes(records, labels) for records in records_per_sample]
    sources = tuple(sorted({s for votes in per_sample for v in votes.values() for s in v}))
    model = LabelModel(tuple(labels), sources, uncertain, {})
    for label in labels:
        matrix = np.array([model.vote_row(votes[label]) for votes in per_sample]).reshape(
            len(per_sample), len(sources)
        )
        if not np.isnan(apply_policy(matrix, uncertain)).all():
            model.models[label] = DawidSkene(uncertain, symmetric).fit(matrix)
    return model
