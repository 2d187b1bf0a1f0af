"""Small numeric helpers shared by the audit's sections: safe ratios, rounding, kappa, bins.

Undefined values are None (JSON null), never NaN, so metrics.json stays strict JSON.
"""

from __future__ import annotations

from collections.abc import Mapping

DIGITS = 6
BINS = 10


def rnd(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def ratio(num: float, den: float) -> float | None:
    """num / den, rounded; None when the denominator is zero."""
    return rnd(num / den) if den else None


def cohen_kappa(n11: int, n10: int, n01: int, n00: int) -> float | None:
    """Cohen's kappa of two raters' 1/0 calls from their 2x2 table; None when undefined."""
    n = n11 + n10 + n01 + n00
    if not n:
        return None
    observed = (n11 + n00) / n
    a1, b1 = (n11 + n10) / n, (n11 + n01) / n
    expected = a1 * b1 + (1 - a1) * (1 - b1)
    return rnd((observed - expected) / (1 - expected)) if expected < 1 else None


def bin_index(p: float, bins: int = BINS) -> int:
    """Which of `bins` equal bins over [0, 1] holds p (1.0 falls in the last)."""
    return min(int(p * bins), bins - 1)


def bin_edges(bins: int = BINS) -> list[float]:
    return [rnd(i / bins) for i in range(bins + 1)]  # type: ignore[misc]


def histogram(counts: Mapping[int, int]) -> dict[str, int]:
    """Counts of small integers keyed by their decimal string (JSON keys), in numeric order."""
    return {str(k): counts[k] for k in sorted(counts)}
