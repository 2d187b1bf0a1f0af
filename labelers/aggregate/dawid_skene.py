"""Dawid-Skene EM for one binary label: learn each source's sensitivity and specificity without
gold labels, then weigh its votes by them.

Majority vote trusts every source equally; when sources differ in quality the good ones should
count more. Dawid-Skene treats the true label as hidden and each source as a noisy channel with
its own confusion matrix, and fits both by EM from the votes alone. Abstentions are missing data.
Rates get a Beta prior (MAP-EM) centred on `prior_accuracy` with `prior_strength` pseudo-votes:
it keeps rates off 0 and 1, so one lucky source cannot dominate, and it keeps sources better than
chance. Without it, few samples or a source that only ever votes 1 (a manifest's labels) let EM
slide to the degenerate optimum where every source has sensitivity + specificity = 1 and every
posterior is the prevalence. EM starts from majority vote, which fixes the label orientation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelmill.labelers.aggregate.votes import apply_policy

_EPS = 1e-6


@dataclass
class DawidSkene:
    """Binary Dawid-Skene; `symmetric` fits one accuracy per source instead of sens/spec."""

    uncertain: str = "ignore"
    symmetric: bool = False
    smoothing: float = 1.0
    prior_accuracy: float = 0.8
    prior_strength: float = 4.0
    max_iter: int = 500
    tol: float = 1e-7
    prior_: float = 0.5
    sensitivity_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    specificity_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_iter_: int = 0

    @property
    def accuracy_(self) -> np.ndarray:
        """Per-source accuracy at the fitted prevalence."""
        return self.prior_ * self.sensitivity_ + (1 - self.prior_) * self.specificity_

    def fit(self, votes: np.ndarray, weights: np.ndarray | None = None) -> DawidSkene:
        """Fit on a [n_samples, n_sources] matrix of 1, 0, -1 (uncertain) and NaN (abstain).

        `weights` counts how many samples each row stands for, so distinct vote patterns with
        their counts give the same fit as every sample's row."""
        v = apply_policy(votes, self.uncertain)
        if v.ndim != 2:
            raise ValueError("votes must be a [n_samples, n_sources] matrix")
        w = np.ones(len(v)) if weights is None else np.asarray(weights, dtype=float)
        voted = ~np.isnan(v).all(axis=1)
        v, w = v[voted], w[voted]
        n_sources = v.shape[1]
        self.sensitivity_ = np.full(n_sources, 0.5)
        self.specificity_ = np.full(n_sources, 0.5)
        if len(v) == 0:
            return self
        seen = ~np.isnan(v)
        pos = np.where(seen, v, 0.0)
        neg = np.where(seen, 1.0 - v, 0.0)
        q = pos.sum(axis=1) / seen.sum(axis=1)  # majority vote as the starting posterior
        a = self.smoothing
        s, good = self.prior_strength, self.prior_strength * self.prior_accuracy
        for it in range(1, self.max_iter + 1):
            old = np.concatenate([[self.prior_], self.sensitivity_, self.specificity_])
            self.prior_ = float((w @ q + a) / (w.sum() + 2 * a))
            tp, fn = (w * q) @ pos, (w * q) @ neg
            tn, fp = (w * (1 - q)) @ neg, (w * (1 - q)) @ pos
            if self.symmetric:
                acc = (tp + tn + good) / (tp + fn + tn + fp + s)
                self.sensitivity_ = self.specificity_ = acc
            else:
                self.sensitivity_ = (tp + good) / (tp + fn + s)
                self.specificity_ = (tn + good) / (tn + fp + s)
            q = self._posterior(pos, neg)
            self.n_iter_ = it
            new = np.concatenate([[self.prior_], self.sensitivity_, self.specificity_])
            if np.abs(new - old).max() < self.tol:
                break
        return self

    def _posterior(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        sens = np.clip(self.sensitivity_, _EPS, 1 - _EPS)
        spec = np.clip(self.specificity_, _EPS, 1 - _EPS)
        prior = np.clip(self.prior_, _EPS, 1 - _EPS)
        log1 = np.log(prior) + pos @ np.log(sens) + neg @ np.log(1 - sens)
        log0 = np.log(1 - prior) + neg @ np.log(spec) + pos @ np.log(1 - spec)
        return 1.0 / (1.0 + np.exp(log0 - log1))

    def predict_proba(self, votes: np.ndarray) -> np.ndarray:
        """P(label = 1) per row; a row with no votes gets the fitted prevalence."""
        v = np.atleast_2d(apply_policy(votes, self.uncertain))
        if v.shape[1] != len(self.sensitivity_):
            raise ValueError(f"expected {len(self.sensitivity_)} sources, got {v.shape[1]}")
        seen = ~np.isnan(v)
        return self._posterior(np.where(seen, v, 0.0), np.where(seen, 1.0 - v, 0.0))

    def to_json(self) -> dict[str, Any]:
        return {
            "uncertain": self.uncertain,
            "symmetric": self.symmetric,
            "prior": self.prior_,
            "sensitivity": [float(x) for x in self.sensitivity_],
            "specificity": [float(x) for x in self.specificity_],
            "n_iter": self.n_iter_,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DawidSkene:
        return cls(
            uncertain=data["uncertain"],
            symmetric=data["symmetric"],
            prior_=float(data["prior"]),
            sensitivity_=np.asarray(data["sensitivity"], dtype=float),
            specificity_=np.asarray(data["specificity"], dtype=float),
            n_iter_=int(data["n_iter"]),
        )
