"""Plots take label names as data: matplotlib's math syntax in a name is drawn, never parsed."""

from __future__ import annotations

import pytest

from labelmill.audit.plots import heatmap, short

HOSTILE = ["$_$", "$\\frac{", "a$b$c", "50$ fee"]


@pytest.mark.parametrize("name", HOSTILE)
def test_dollar_signs_in_labels_are_escaped(name: str) -> None:
    assert short(name).count("$") == short(name).count("\\$")


def test_a_heatmap_of_hostile_label_names_renders() -> None:
    uri = heatmap([[1.0, None], [0.5, 0.2]], HOSTILE[:2], HOSTILE[2:], "kappa", "{:.2f}")
    assert uri.startswith("data:image/")
