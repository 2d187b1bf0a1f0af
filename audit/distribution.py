"""Label distribution per source and for the final labels: prevalence, labels per sample and
co-occurrence of positive labels."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

from labelmill.audit.read import ShardSample
from labelmill.audit.stats import histogram, rate, ratio
from labelmill.audit.votes import FINAL, Votes

TOP_LABELS = 15  # labels in a co-occurrence matrix
STATUS = {1: "positive", 0: "negative", -1: "uncertain"}


class Distribution:
    """Counts votes per source (and `final`) and label, streaming."""

    def __init__(self) -> None:
        self.samples = 0
        self.present: Counter[str] = Counter()
        self.values: dict[str, Counter[tuple[str, int]]] = defaultdict(Counter)
        self.per_sample: dict[str, Counter[int]] = defaultdict(Counter)
        self.pairs: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)

    def add(self, sample: ShardSample, votes: Votes) -> None:
        self.samples += 1
        labelled = dict(votes.by_source)
        if votes.has_final:
            labelled[FINAL] = votes.final
        for source, cast in labelled.items():
            self.present[source] += 1
            self.values[source].update((label, v) for label, v in cast.items() if v in STATUS)
            positives = sorted(label for label, v in cast.items() if v == 1)
            self.per_sample[source][len(positives)] += 1
            self.pairs[source].update(combinations(positives, 2))

    def result(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "sources": {source: self._source(source) for source in sorted(self.present)},
        }

    def _source(self, source: str) -> dict[str, Any]:
        values = self.values[source]
        names = sorted({label for label, _ in values})
        labels = {}
        for label in names:
            row = {name: values[(label, v)] for v, name in STATUS.items()}
            row["prevalence"] = rate(row["positive"], self.samples)
            labels[label] = row
        per_sample = self.per_sample[source]
        total = sum(k * c for k, c in per_sample.items())
        top = sorted(names, key=lambda k: (-labels[k]["positive"], k))[:TOP_LABELS]
        top = [k for k in top if labels[k]["positive"]]
        pairs = self.pairs[source]
        matrix = [
            [labels[a]["positive"] if a == b else pairs[tuple(sorted((a, b)))] for b in top]
            for a in top
        ]
        return {
            "samples": self.present[source],
            "labels": labels,
            "labels_per_sample": {
                "mean": ratio(total, self.present[source]),
                "histogram": histogram(per_sample),
            },
            "cooccurrence": {"labels": top, "counts": matrix},
        }
