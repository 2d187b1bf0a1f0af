"""Gold labels: read a CSV or JSONL file, and score every labeler and the final labels on it.

Format (also in `labelmill audit --help`): one row per sample, an `id` column (the manifest id)
or a `key` column (the shard key), then either one column per label holding 1, 0 or blank
(blank = unknown), or one `labels` column listing the sample's positive labels as `a|b` (or a
JSON list); with a `labels` column every label named anywhere in the file is 0 where not listed.

Precision and recall are proportions and get Wilson 95% intervals. F1 gets a Bayesian
bootstrap interval: resampling samples only moves counts between the four cells (tp, fp, fn,
tn), so the draws are cell shares from a Dirichlet over the counts plus a Jeffreys 1/2 each,
O(draws) whatever the size. A plain percentile bootstrap would give 3 of 3 correct the interval
[1, 1]; the prior keeps small all-correct cells honestly wide.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelmill.audit.read import ShardSample
from labelmill.audit.stats import rnd, wilson
from labelmill.audit.votes import FINAL, Votes
from labelmill.manifests.tables import BadRow, TableError, iter_table

DRAWS = 1000
SEED = 20240613
TRUE = ("1", "1.0", "true", "yes")
FALSE = ("0", "0.0", "false", "no")
BLANK = ("", "nan", "none", "null")


class GoldError(ValueError):
    """A gold file that cannot be read; the message names the file, row and column."""


@dataclass(frozen=True)
class Gold:
    """Gold labels by sample id (or key): `rows[name][label]` is 1 or 0; unknown is left out."""

    path: str
    match: str
    labels: tuple[str, ...]
    rows: dict[str, dict[str, int]]

    def lookup(self, votes: Votes) -> dict[str, int] | None:
        return self.rows.get(votes.id if self.match == "id" else votes.key)


def _value(value: Any, where: str) -> int | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in BLANK:
        return None
    if text in TRUE:
        return 1
    if text in FALSE:
        return 0
    raise GoldError(f"{where}: {value!r} is not 1, 0 or blank")


def _listed(value: Any) -> list[str]:
    if isinstance(value, list):
        items = [str(v) for v in value]
    else:
        items = "" if value is None else str(value).split("|")
    return [s.strip() for s in items if s.strip()]


def _records(path: str) -> list[dict[str, Any]]:
    rows = []
    try:
        for number, row in iter_table(path):
            if isinstance(row, BadRow):
                raise GoldError(f"{path}: row {number}: {row}")
            rows.append(row)
    except TableError as exc:
        raise GoldError(str(exc)) from exc
    return rows


def read_gold(path: str) -> Gold:
    """Parse a gold file; raises GoldError naming what is wrong."""
    records = _records(path)
    if not records:
        raise GoldError(f"{path}: no rows")
    columns = list(dict.fromkeys(c for r in records for c in r))
    match = "id" if "id" in columns else "key" if "key" in columns else ""
    if not match:
        raise GoldError(f"{path}: needs an 'id' or 'key' column; found {columns}")
    listed = "labels" in columns
    label_columns = [c for c in columns if c not in ("id", "key", "labels")]
    if listed:
        names = sorted({name for r in records for name in _listed(r.get("labels"))})
    else:
        names = label_columns
    rows: dict[str, dict[str, int]] = {}
    for number, record in enumerate(records, 1):
        name = str(record.get(match) or "").strip()
        if not name:
            raise GoldError(f"{path}: row {number}: empty {match}")
        if name in rows:
            raise GoldError(f"{path}: row {number}: {match} {name!r} appears twice")
        if listed:
            positives = set(_listed(record.get("labels")))
            rows[name] = {label: int(label in positives) for label in names}
        else:
            values = {
                c: _value(record.get(c), f"{path}: row {number}, column {c!r}") for c in names
            }
            rows[name] = {c: v for c, v in values.items() if v is not None}
    return Gold(path=path, match=match, labels=tuple(names), rows=rows)


def bootstrap(tp: int, fp: int, fn: int, tn: int, seed: int) -> dict[str, list[float] | None]:
    """95% intervals: Wilson for precision and recall, Bayesian bootstrap for F1; None where
    the value itself is undefined."""
    out: dict[str, list[float] | None] = {
        "precision": wilson(tp, tp + fp),
        "recall": wilson(tp, tp + fn),
        "f1": None,
    }
    if tp + fp + fn:
        rng = np.random.default_rng(seed)
        shares = rng.dirichlet(np.array([tp, fp, fn, tn], dtype=float) + 0.5, size=DRAWS)
        f1 = 2 * shares[:, 0] / (2 * shares[:, 0] + shares[:, 1] + shares[:, 2])
        out["f1"] = [rnd(np.percentile(f1, 2.5)), rnd(np.percentile(f1, 97.5))]  # type: ignore[list-item]
    return out


def scores(tp: int, fp: int, fn: int, tn: int, seed: int) -> dict[str, Any]:
    """Counts, precision, recall, F1 and their intervals; undefined values are None."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {
        "n": tp + fp + fn + tn,
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": rnd(precision),
        "recall": rnd(recall),
        "f1": rnd(f1),
        "ci95": bootstrap(tp, fp, fn, tn, seed),
    }


class GoldMetrics:
    """Per label, each labeler's and the final labels' confusion counts against gold.

    A prediction is positive when the source votes 1; 0, uncertain and no vote count as negative.
    A (source, label) pair is scored only if the source voted on that label for some gold sample.
    """

    def __init__(self, gold: Gold) -> None:
        self.gold = gold
        self.matched: set[str] = set()
        self.counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.voted: set[tuple[str, str]] = set()

    def add(self, sample: ShardSample, votes: Votes) -> None:
        truth = self.gold.lookup(votes)
        if truth is None:
            return
        self.matched.add(votes.id if self.gold.match == "id" else votes.key)
        cast = dict(votes.by_source)
        if votes.has_final:
            cast[FINAL] = votes.final
        for source, labels in cast.items():
            for label, actual in truth.items():
                if label in labels:
                    self.voted.add((source, label))
                predicted = labels.get(label) == 1
                cell = (0 if actual else 1) if predicted else (2 if actual else 3)
                self.counts[(source, label)][cell] += 1  # tp, fp, fn, tn

    def result(self) -> dict[str, Any]:
        per_source: dict[str, dict[str, Any]] = defaultdict(dict)
        for source, label in sorted(self.voted):
            seed = SEED + zlib.crc32(f"{source}\t{label}".encode())
            per_source[source][label] = scores(*self.counts[(source, label)], seed=seed)
        scored = {label for _, label in self.voted}
        unmatched = sorted(set(self.gold.rows) - self.matched)
        return {
            "file": self.gold.path,
            "match": self.gold.match,
            "rows": len(self.gold.rows),
            "matched": len(self.matched),
            "unmatched": len(unmatched),
            "unmatched_examples": unmatched[:5],
            "labels": list(self.gold.labels),
            "labels_without_votes": [x for x in self.gold.labels if x not in scored],
            "bootstrap": {
                "draws": DRAWS,
                "seed": SEED,
                "interval": "precision, recall: Wilson 95%; F1: Bayesian bootstrap 95%",
            },
            "per_source": dict(per_source),
        }
