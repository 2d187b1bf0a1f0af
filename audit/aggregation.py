"""The final labels: where they differ from a plain majority vote, how confident they are, and
(with gold) how well their probabilities are calibrated."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from labelmill.audit.gold import Gold
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import BINS, bin_edges, bin_index, rate, ratio, rnd
from labelmill.audit.votes import Votes
from labelmill.labelers.aggregate.majority import majority
from labelmill.labelers.aggregate.votes import POLICIES

EXAMPLES = 10


class Aggregation:
    """Compares each final label with the majority vote recomputed from the sample's records."""

    def __init__(self, gold: Gold | None = None) -> None:
        self.gold = gold
        self.finals = 0
        self.methods: Counter[str] = Counter()
        self.per_label: dict[str, Counter[str]] = defaultdict(Counter)
        self.examples: list[dict[str, Any]] = []
        self.confidence = [0] * BINS
        self.calibration = [[0, 0.0, 0] for _ in range(BINS)]  # cells, sum of p, positives
        self.brier = 0.0

    def add(self, sample: ShardSample, votes: Votes) -> None:
        if not votes.has_final:
            return
        final = sample.doc["final"]
        self.finals += 1
        self.methods[str(final.get("source", "?"))] += 1
        policy = (final.get("meta") or {}).get("uncertain", "ignore")
        plain = majority(
            votes.records, list(votes.final), policy if policy in POLICIES else "ignore"
        )
        truth = self.gold.lookup(votes) if self.gold else None
        for label, value in sorted(votes.final.items()):
            counts = self.per_label[label]
            counts["cells"] += 1
            counts["positive"] += value == 1
            score = votes.final_scores.get(label)
            if score is not None:
                self.confidence[bin_index(score)] += 1
            if label not in plain.labels:
                counts["no_majority"] += 1
            elif plain.labels[label] != value:
                counts["disagree"] += 1
                if len(self.examples) < EXAMPLES:
                    self.examples.append(
                        {
                            "key": votes.key,
                            "label": label,
                            "final": value,
                            "final_score": rnd(score),
                            "majority": plain.labels[label],
                            "majority_score": rnd(plain.scores[label]),
                        }
                    )
            if truth is not None and label in truth and score is not None:
                cell = self.calibration[bin_index(score)]
                cell[0] += 1
                cell[1] += score
                cell[2] += truth[label]
                self.brier += (score - truth[label]) ** 2

    def result(self) -> dict[str, Any]:
        labels = {
            label: {
                "cells": c["cells"],
                "positive": c["positive"],
                "disagree_with_majority": c["disagree"],
                "disagree_rate": rate(c["disagree"], c["cells"]),
                "no_majority": c["no_majority"],
            }
            for label, c in sorted(self.per_label.items())
        }
        cells = sum(c["cells"] for c in self.per_label.values())
        disagree = sum(c["disagree"] for c in self.per_label.values())
        out: dict[str, Any] = {
            "samples_with_final": self.finals,
            "methods": dict(sorted(self.methods.items())),
            "cells": cells,
            "disagree_with_majority": disagree,
            "disagree_rate": rate(disagree, cells),
            "labels": labels,
            "disagreement_examples": self.examples,
            "confidence_histogram": {"edges": bin_edges(), "counts": self.confidence},
            "calibration": None,
        }
        if self.gold is not None:
            n = sum(cell[0] for cell in self.calibration)
            ece = sum(abs(s - pos) for c, s, pos in self.calibration if c) / n if n else None
            out["calibration"] = {
                "cells": n,
                "bins": [
                    {
                        "low": bin_edges()[i],
                        "high": bin_edges()[i + 1],
                        "cells": c,
                        "mean_predicted": ratio(s, c),
                        "observed": rate(pos, c),
                    }
                    for i, (c, s, pos) in enumerate(self.calibration)
                ],
                "ece": rnd(ece),
                "brier": ratio(self.brier, n),
            }
        return out
