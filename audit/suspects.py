"""Suspect samples: where labelers disagree most (1 against 0 on the same label), then where
they hedge most; the keys let a reader pull the sample from its shard."""

from __future__ import annotations

from collections import Counter
from typing import Any

from labelmill.audit.read import ShardSample
from labelmill.audit.stats import histogram, rnd
from labelmill.audit.votes import Votes

TOP = 20


class Suspects:
    """Keeps the TOP most disputed samples while streaming, and counts conflicts per sample."""

    def __init__(self) -> None:
        self.samples = 0
        self.sources: set[str] = set()
        self.per_sample: Counter[int] = Counter()
        self.ranked: list[tuple[int, int, str, dict[str, Any]]] = []

    def add(self, sample: ShardSample, votes: Votes) -> None:
        self.samples += 1
        self.sources.update(votes.by_source)
        labels = sorted({label for cast in votes.by_source.values() for label in cast})
        conflicts = []
        for label in labels:
            cast = {s: c[label] for s, c in sorted(votes.by_source.items()) if label in c}
            if {0, 1} <= set(cast.values()):
                conflicts.append(
                    {"label": label, "votes": cast, "final": rnd(votes.final_scores.get(label))}
                )
        hedged = [
            {"source": source, "label": label}
            for source, cast in sorted(votes.by_source.items())
            for label, v in sorted(cast.items())
            if v == -1
        ]
        uncertain = len(hedged)
        self.per_sample[len(conflicts)] += 1
        if not conflicts and not uncertain:
            return
        detail = {
            "key": votes.key,
            "id": votes.id,
            "conflicting_labels": len(conflicts),
            "uncertain_votes": uncertain,
            "conflicts": conflicts,
            "uncertain": hedged,
        }
        self.ranked.append((-len(conflicts), -uncertain, votes.key, detail))
        if len(self.ranked) > 4 * TOP:
            self.ranked = sorted(self.ranked, key=lambda t: t[:3])[:TOP]

    def result(self) -> dict[str, Any]:
        top = sorted(self.ranked, key=lambda t: t[:3])[:TOP]
        return {
            "sources": len(self.sources),
            "samples_with_conflict": self.samples - self.per_sample[0],
            "conflicting_labels_per_sample": histogram(self.per_sample),
            "top": [t[3] for t in top],
        }
