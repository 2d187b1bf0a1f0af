"""The per-labeler table (Snorkel's LF summary, per sample) and pairwise agreement.

Per labeler, over all written samples: coverage (share of samples it votes on at all), overlap
(share where another labeler votes on one of the same labels), conflict (share where another
labeler votes the opposite 1/0 on one of the same labels; uncertain votes never conflict),
polarity (the vote values it emits) and, with gold, empirical accuracy of its 1/0 votes.
Per pair: cells (sample, label) both vote on, agreement, conflicts and Cohen's kappa over the
cells both vote 1 or 0 on, with a bootstrap interval; kappa is n/a, with the reason, when a
labeler never varies on the shared cells (a manifest that only lists positives): its chance
agreement is then everything and kappa says nothing. Labels are compared by name.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

from labelmill.audit.gold import Gold
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import cohen_kappa, kappa_interval, kappa_undefined, rate
from labelmill.audit.votes import Votes
from labelmill.labelers.aggregate.votes import ERROR


class Labelers:
    """Streams votes into per-labeler and per-pair counts."""

    def __init__(self, gold: Gold | None = None) -> None:
        self.gold = gold
        self.samples = 0
        self.stats: dict[str, Counter[str]] = defaultdict(Counter)
        self.polarity: dict[str, set[int]] = defaultdict(set)
        self.pairs: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def add(self, sample: ShardSample, votes: Votes) -> None:
        self.samples += 1
        cast = {s: {k: v for k, v in c.items() if v != ERROR} for s, c in votes.by_source.items()}
        overlap: set[str] = set()
        conflict: set[str] = set()
        for a, b in combinations(sorted(cast), 2):
            shared = cast[a].keys() & cast[b].keys()
            pair = self.pairs[(a, b)]
            for label in shared:
                va, vb = cast[a][label], cast[b][label]
                pair["both"] += 1
                pair["agree"] += va == vb
                if {va, vb} == {0, 1}:
                    conflict.update((a, b))
                if va in (0, 1) and vb in (0, 1):
                    pair[f"n{va}{vb}"] += 1
            if shared:
                overlap.update((a, b))
        truth = self.gold.lookup(votes) if self.gold else None
        for source, labels in votes.by_source.items():
            stats = self.stats[source]
            stats["present"] += 1
            stats["errors"] += sum(v == ERROR for v in labels.values())
            values = [v for v in labels.values() if v != ERROR]
            self.polarity[source].update(values)
            stats["votes"] += len(values)
            stats["covered"] += bool(values)
            stats["overlap"] += source in overlap
            stats["conflict"] += source in conflict
            for v in values:
                stats[f"v{v}"] += 1
            if truth is not None:
                for label, v in labels.items():
                    if v in (0, 1) and label in truth:
                        stats["gold_n"] += 1
                        stats["gold_correct"] += v == truth[label]

    def result(self) -> dict[str, Any]:
        n = self.samples
        sources = {}
        for source in sorted(self.stats):
            s = self.stats[source]
            sources[source] = {
                "samples_with_record": s["present"],
                "votes": s["votes"],
                "positive": s["v1"],
                "negative": s["v0"],
                "uncertain": s["v-1"],
                "errors": s["errors"],
                "votes_per_sample": round(s["votes"] / n, 6) if n else None,
                "coverage": rate(s["covered"], n),
                "overlap": rate(s["overlap"], n),
                "conflict": rate(s["conflict"], n),
                "polarity": sorted(self.polarity[source]),
                "gold_votes": s["gold_n"] if self.gold else None,
                "accuracy": rate(s["gold_correct"], s["gold_n"]) if self.gold else None,
            }
        pairs = []
        for (a, b), c in sorted(self.pairs.items()):
            table = (c["n11"], c["n10"], c["n01"], c["n00"])
            seed = zlib.crc32(f"{a}\t{b}".encode())
            pairs.append(
                {
                    "a": a,
                    "b": b,
                    "both_vote": c["both"],
                    "agree": rate(c["agree"], c["both"]),
                    "conflicts": c["n10"] + c["n01"],
                    "definite": sum(table),
                    "kappa": cohen_kappa(*table),
                    "kappa_ci95": kappa_interval(*table, seed=seed),
                    "kappa_na": kappa_undefined(*table, a=a, b=b) or None,
                }
            )
        agree = sum(c["agree"] for c in self.pairs.values())
        shared = sum(c["both"] for c in self.pairs.values())
        return {
            "samples": n,
            "sources": sources,
            "pairs": pairs,
            "agreement": rate(agree, shared),
        }
