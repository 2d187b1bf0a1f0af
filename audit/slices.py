"""Slices: prevalence, labeler agreement and gold metrics per value of a manifest metadata
column (`--slice-by site --slice-by view`), to see whether labels behave alike across sites,
views, sexes or sources.

A sample's labels here are the final labels (p >= 0.5), or the majority vote without an
aggregator. Memory is bounded: the first MAX_VALUES distinct values of a column get their own
slice, later ones share "(other)"; a sample without the column is "(missing)". Cost per
sample: one counter update per column and label; at 1e9 rows a combine of these counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from labelmill.audit.gold import Gold, scores
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import rate
from labelmill.audit.votes import Votes, consensus

MAX_VALUES = 20
OTHER = "(other)"
MISSING = "(missing)"
VALUE_CHARS = 60
LABELS_SHOWN = 8


def slice_value(meta: dict[str, Any], column: str) -> str:
    value = meta.get(column)
    return MISSING if value is None or str(value).strip() == "" else str(value)[:VALUE_CHARS]


def pair_agreement(votes: Votes) -> tuple[int, int, bool]:
    """(cells two labelers agree on, cells they share, whether any pair votes 1 against 0)."""
    agree = shared = 0
    conflict = False
    cast = votes.by_source
    for a, b in combinations(sorted(cast), 2):
        for label in cast[a].keys() & cast[b].keys():
            shared += 1
            agree += cast[a][label] == cast[b][label]
            conflict |= {cast[a][label], cast[b][label]} == {0, 1}
    return agree, shared, conflict


class Slices:
    """Counters per (column, value)."""

    def __init__(self, columns: Sequence[str], gold: Gold | None = None) -> None:
        self.columns = list(dict.fromkeys(columns))
        self.gold = gold
        self.present: Counter[str] = Counter()
        self.buckets: dict[str, dict[str, Counter[Any]]] = {c: {} for c in self.columns}
        self.positives: Counter[str] = Counter()

    def add(self, sample: ShardSample, votes: Votes) -> None:
        if not self.columns:
            return
        meta = sample.doc.get("meta") or {}
        labels = {label: int(p >= 0.5) for label, p in consensus(votes).items()}
        self.positives.update(label for label, v in labels.items() if v)
        agree, shared, conflict = pair_agreement(votes)
        truth = (self.gold.lookup(votes) if self.gold else None) or {}
        for column in self.columns:
            self.present[column] += column in meta
            buckets = self.buckets[column]
            value = slice_value(meta, column)
            if value not in buckets and len(buckets) >= MAX_VALUES:
                value = OTHER
            c = buckets.setdefault(value, Counter())
            c["samples"] += 1
            c["agree"] += agree
            c["shared"] += shared
            c["conflict"] += conflict
            c.update(("positive", label) for label, v in labels.items() if v)
            for label, actual in truth.items():
                predicted = labels.get(label) == 1
                cell = ("tp" if actual else "fp") if predicted else ("fn" if actual else "tn")
                c[(cell, label)] += 1

    def result(self) -> dict[str, Any]:
        shown = sorted(self.positives, key=lambda k: (-self.positives[k], k))[:LABELS_SHOWN]
        gold_labels = list(self.gold.labels) if self.gold else []
        columns = []
        for column in self.columns:
            values = []
            for value, c in sorted(
                self.buckets[column].items(), key=lambda t: (-t[1]["samples"], t[0])
            ):
                n = c["samples"]
                entry: dict[str, Any] = {
                    "value": value,
                    "samples": n,
                    "prevalence": {k: rate(c[("positive", k)], n) for k in sorted(self.positives)},
                    "agreement": rate(c["agree"], c["shared"]),
                    "conflict": rate(c["conflict"], n),
                    "gold": None,
                }
                if self.gold is not None:
                    entry["gold"] = {
                        label: scores(*(c[(x, label)] for x in ("tp", "fp", "fn", "tn")), seed=n)
                        for label in gold_labels
                        if any(c[(x, label)] for x in ("tp", "fp", "fn", "tn"))
                    }
                values.append(entry)
            columns.append(
                {
                    "column": column,
                    "samples_with_column": self.present[column],
                    "capped": len(self.buckets[column]) >= MAX_VALUES,
                    "values": values,
                }
            )
        return {"columns": columns, "labels_shown": shown, "max_values": MAX_VALUES}
