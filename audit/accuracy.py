"""Per-source accuracy without gold: the label model's sensitivity and specificity of every
labeler on every label, with intervals, beside the same two measured on gold when gold exists.

Dawid-Skene's fitted rates are a fixed point of its EM: each rate is the MAP of a Beta posterior
over the expected confusion counts, which are sums over samples of the final posterior q (the
final probability) times each vote. Those counts stream: sensitivity of a source is
(sum q·[vote=1] + a) / (sum q·[vote∈{0,1}] + s), with the label model's own Beta prior (a, s).
The 95% interval is that Beta posterior's; it takes the other parameters as known, so it is a
lower bound on the true uncertainty (it narrows with votes, which is the part a reader needs).
Cost: four floats per (source, label); at 1e9 rows it is the same combine as the fit.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from labelmill.audit.gold import Gold
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import rate, rnd
from labelmill.audit.votes import Votes
from labelmill.labelers.aggregate.dawid_skene import DawidSkene

METHOD = "dawid-skene"
DRAWS = 4000
SEED = 20240613


def policy_vote(value: Any, uncertain: str) -> int | None:
    """A vote after the build's uncertain policy: 1, 0, or None when it does not count."""
    if value == -1:
        return {"zero": 0, "one": 1}.get(uncertain)
    return value if value in (0, 1) else None


def beta_estimate(hits: float, misses: float, seed: int) -> dict[str, Any]:
    """MAP of the rate under the label model's Beta prior, and the posterior's 95% interval."""
    prior = DawidSkene()
    good = prior.prior_strength * prior.prior_accuracy
    bad = prior.prior_strength - good
    a, b = hits + good, misses + bad
    draws = np.random.default_rng(seed).beta(a, b, size=DRAWS)
    return {
        "value": rnd(a / (a + b)),
        "ci95": [rnd(np.percentile(draws, 2.5)), rnd(np.percentile(draws, 97.5))],
        "weight": rnd(hits + misses),  # expected positives (or negatives) it rests on
    }


class SourceAccuracy:
    """Streams soft confusion counts (from final probabilities) and gold counts per source."""

    def __init__(self, run: dict[str, Any], gold: Gold | None = None) -> None:
        self.learned = run.get("label_model") or {}
        self.gold = gold
        self.methods: set[str] = set()
        self.soft: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(4))
        self.votes: Counter[tuple[str, str]] = Counter()
        self.hard: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, sample: ShardSample, votes: Votes) -> None:
        if not votes.has_final:
            return
        meta = sample.doc["final"].get("meta") or {}
        method = str(meta.get("method", ""))
        self.methods.add(method)
        if method != METHOD:
            return
        uncertain = str(meta.get("uncertain", "ignore"))
        unfitted = set(meta.get("unfitted") or [])
        truth = (self.gold.lookup(votes) if self.gold else None) or {}
        for label, q in votes.final_scores.items():
            for source, cast in votes.by_source.items():
                v = policy_vote(cast.get(label), uncertain)
                if v is None or source in unfitted:
                    continue
                # tp, fn, tn, fp as expected counts under the final posterior
                self.votes[(source, label)] += 1
                self.soft[(source, label)] += (q * v, q * (1 - v), (1 - q) * (1 - v), (1 - q) * v)
                if label in truth:
                    cell = (0 if v else 1) if truth[label] else (3 if v else 2)
                    self.hard[(source, label)][cell] += 1

    def result(self) -> dict[str, Any]:
        if METHOD not in self.methods:
            reason = (
                "the build has no final labels (--aggregate dawid-skene)"
                if not self.methods
                else f"the final labels come from {', '.join(sorted(self.methods))}, which "
                "learns no per-source rates (--aggregate dawid-skene does)"
            )
            return {"method": None, "reason": reason, "rows": []}
        prior = DawidSkene()
        rows = []
        for (source, label), (tp, fn, tn, fp) in sorted(self.soft.items()):
            seed = SEED + zlib.crc32(f"{source}\t{label}".encode())
            learned = ((self.learned.get(label) or {}).get("sources") or {}).get(source) or {}
            row: dict[str, Any] = {
                "source": source,
                "label": label,
                "votes": self.votes[(source, label)],
                "sensitivity": beta_estimate(tp, fn, seed),
                "specificity": beta_estimate(tn, fp, seed + 1),
                "learned": {k: learned.get(k) for k in ("sensitivity", "specificity")}
                if learned
                else None,
                "gold": None,
            }
            if self.gold is not None:
                gtp, gfn, gtn, gfp = self.hard[(source, label)]
                row["gold"] = {
                    "sensitivity": rate(gtp, gtp + gfn),
                    "specificity": rate(gtn, gtn + gfp),
                }
            rows.append(row)
        return {
            "method": METHOD,
            "reason": None,
            "prior": {"accuracy": prior.prior_accuracy, "strength": prior.prior_strength},
            "rows": rows,
        }
