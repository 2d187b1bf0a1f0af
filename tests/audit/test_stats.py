"""Rates with Wilson intervals, kappa and its undefined cases, support flags."""

from __future__ import annotations

import pytest

from labelmill.audit.stats import (
    cohen_kappa,
    flag_low_support,
    kappa_interval,
    kappa_undefined,
    rate,
    wilson,
)


def test_wilson_interval_known_values_and_edges() -> None:
    assert wilson(1, 5) == [0.036224, 0.624465]
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and 0.25 < hi < 0.35  # an observed 0 still has room above it
    lo, hi = wilson(1, 1)
    assert hi == 1.0 and lo < 0.25  # 1 of 1 is not a measured 100%
    assert wilson(0, 0) is None
    assert rate(0, 0) == {"rate": None, "k": 0, "n": 0, "ci95": None}


def test_intervals_narrow_with_n() -> None:
    small, large = wilson(5, 10), wilson(500, 1000)
    assert small is not None and large is not None
    assert large[1] - large[0] < (small[1] - small[0]) / 5


def test_kappa_of_a_rater_that_never_varies_is_undefined() -> None:
    # 9 of 10 cells agree, but rater A always says 1: chance agreement is all of it
    assert cohen_kappa(9, 1, 0, 0) is None
    assert kappa_undefined(9, 1, 0, 0, a="manifest", b="reports") == (
        "manifest votes only 1 on the 10 shared cells"
    )
    assert kappa_undefined(0, 0, 0, 0) != ""
    assert kappa_undefined(2, 1, 1, 2) == ""
    assert cohen_kappa(2, 1, 1, 2) == pytest.approx(1 / 3, abs=1e-6)


def test_kappa_interval_is_seeded_and_brackets() -> None:
    first = kappa_interval(40, 10, 5, 45, seed=3)
    assert first == kappa_interval(40, 10, 5, 45, seed=3)
    assert first is not None and first[0] < cohen_kappa(40, 10, 5, 45) < first[1]
    assert kappa_interval(9, 1, 0, 0, seed=3) is None


def test_low_support_flags_every_rate_in_a_tree() -> None:
    tree = {"a": rate(1, 5), "b": [rate(30, 40), {"c": rate(0, 0)}], "d": 0.5}
    flag_low_support(tree, 20)
    assert tree["a"]["low_support"] and tree["b"][1]["c"]["low_support"]
    assert not tree["b"][0]["low_support"]
    assert tree["d"] == 0.5
