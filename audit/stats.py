"""Small numeric helpers shared by the audit's sections: rates with their n and interval, kappa,
bins.

Every rate the page shows is a `rate(k, n)` dict: the value, its numerator and denominator, and a
Wilson 95% interval (good at small n and at 0 and 1, where the normal interval collapses).
Undefined values are None (JSON null), never NaN, so metrics.json stays strict JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

DIGITS = 6
BINS = 10
Z95 = 1.959964
DRAWS = 1000
RATE_KEYS = frozenset(("rate", "k", "n", "ci95"))


def rnd(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def ratio(num: float, den: float) -> float | None:
    """num / den, rounded; None when the denominator is zero."""
    return rnd(num / den) if den else None


def wilson(k: float, n: float) -> list[float] | None:
    """Wilson score 95% interval of k successes in n trials; None when n is 0."""
    if not n:
        return None
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return [rnd(max(0.0, centre - half)), rnd(min(1.0, centre + half))]  # type: ignore[list-item]


def rate(k: float, n: float) -> dict[str, Any]:
    """A rate as the page shows it: value, k of n, Wilson 95% interval (value None when n=0)."""
    return {"rate": ratio(k, n), "k": k, "n": n, "ci95": wilson(k, n)}


def is_rate(value: Any) -> bool:
    return isinstance(value, dict) and RATE_KEYS <= value.keys()


def flag_low_support(value: Any, min_support: int) -> None:
    """Mark every rate in a metrics tree whose n is below `min_support` (`low_support`)."""
    if is_rate(value):
        value["low_support"] = value["n"] < min_support
    elif isinstance(value, dict):
        for item in value.values():
            flag_low_support(item, min_support)
    elif isinstance(value, list):
        for item in value:
            flag_low_support(item, min_support)


def kappa_undefined(
    n11: int, n10: int, n01: int, n00: int, a: str = "labeler A", b: str = "labeler B"
) -> str:
    """Why Cohen's kappa of a 2x2 table (rows: a's vote, columns: b's) is undefined, or ""."""
    n = n11 + n10 + n01 + n00
    if not n:
        return f"{a} and {b} share no cell that both vote 1 or 0 on"
    constant = [
        f"{name} votes only {1 if ones else 0} on the {n} shared cells"
        for name, ones in ((a, n11 + n10), (b, n11 + n01))
        if ones in (0, n)
    ]
    return "; ".join(constant)


def cohen_kappa(n11: int, n10: int, n01: int, n00: int) -> float | None:
    """Cohen's kappa of two raters' 1/0 calls from their 2x2 table; None when undefined (no
    shared cell, or a rater that never varies: then kappa is 0 by arithmetic, not by evidence)."""
    if kappa_undefined(n11, n10, n01, n00):
        return None
    n = n11 + n10 + n01 + n00
    observed = (n11 + n00) / n
    a1, b1 = (n11 + n10) / n, (n11 + n01) / n
    expected = a1 * b1 + (1 - a1) * (1 - b1)
    return rnd((observed - expected) / (1 - expected))


def kappa_interval(n11: int, n10: int, n01: int, n00: int, seed: int) -> list[float] | None:
    """Percentile bootstrap 95% interval of kappa: resampling cells only moves counts between
    the four table cells, so the resampled tables are multinomial draws (O(draws) at any n)."""
    n = n11 + n10 + n01 + n00
    if cohen_kappa(n11, n10, n01, n00) is None:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, np.array([n11, n10, n01, n00]) / n, size=DRAWS).astype(float)
    po = (draws[:, 0] + draws[:, 3]) / n
    a1, b1 = (draws[:, 0] + draws[:, 1]) / n, (draws[:, 0] + draws[:, 2]) / n
    pe = a1 * b1 + (1 - a1) * (1 - b1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (po - pe) / (1 - pe)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    return [rnd(np.percentile(values, 2.5)), rnd(np.percentile(values, 97.5))]  # type: ignore[list-item]


def bin_index(p: float, bins: int = BINS) -> int:
    """Which of `bins` equal bins over [0, 1] holds p (1.0 falls in the last)."""
    return min(int(p * bins), bins - 1)


def bin_edges(bins: int = BINS) -> list[float]:
    return [rnd(i / bins) for i in range(bins + 1)]  # type: ignore[misc]


def histogram(counts: Mapping[int, int]) -> dict[str, int]:
    """Counts of small integers keyed by their decimal string (JSON keys), in numeric order."""
    return {str(k): counts[k] for k in sorted(counts)}
