"""Slices of the hand-made build by a metadata column, worked out by hand (see conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labelmill.audit import AuditConfig, audit


@pytest.fixture(scope="module")
def sliced(hand_build: Path, gold_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("sliced")
    config = AuditConfig(slice_by=("site", "view"))
    metrics = audit(str(hand_build), str(out), str(gold_csv), config)
    metrics["page"] = (out / "index.html").read_text()
    return metrics


def values(metrics: dict[str, Any], column: str) -> dict[str, dict[str, Any]]:
    col = next(c for c in metrics["slices"]["columns"] if c["column"] == column)
    return {v["value"]: v for v in col["values"]}


def test_prevalence_agreement_and_conflict_per_site(sliced: dict[str, Any]) -> None:
    site = values(sliced, "site")
    a, b = site["A"], site["B"]
    assert (a["samples"], b["samples"]) == (2, 2)
    # final labels at site A: s1 A=1 B=0, s2 A=1 B=1
    assert (a["prevalence"]["A"]["k"], a["prevalence"]["B"]["k"]) == (2, 1)
    # shared cells that agree: s1 3 of 4, s2 2 of 4; s3 0 of 1 (uncertain vs 0), s4 2 of 4
    assert (a["agreement"]["k"], a["agreement"]["n"]) == (5, 8)
    assert (b["agreement"]["k"], b["agreement"]["n"]) == (2, 5)
    assert (a["conflict"]["k"], b["conflict"]["k"]) == (2, 1)
    assert all(r["low_support"] for r in (a["agreement"], a["conflict"]))


def test_gold_metrics_per_slice(sliced: dict[str, Any]) -> None:
    a = values(sliced, "site")["A"]["gold"]
    assert (a["A"]["tp"], a["A"]["f1"]) == (2, 1.0)
    assert (a["B"]["tn"], a["B"]["f1"]) == (1, None)  # no positive at all: F1 undefined


def test_a_column_no_sample_has(sliced: dict[str, Any]) -> None:
    col = next(c for c in sliced["slices"]["columns"] if c["column"] == "view")
    assert col["samples_with_column"] == 0
    assert [v["value"] for v in col["values"]] == ["(missing)"]
    assert "No sample has a metadata column view" in sliced["page"]
    assert "<h3>by <code>site</code></h3>" in sliced["page"]


def test_values_beyond_the_cap_share_one_slice() -> None:
    from labelmill.audit.read import ShardSample
    from labelmill.audit.slices import MAX_VALUES, OTHER, Slices
    from labelmill.audit.votes import sample_votes

    slices = Slices(["n"])
    for i in range(MAX_VALUES + 5):
        doc = {"key": f"k{i}", "id": f"k{i}", "meta": {"n": i}, "records": [], "final": {}}
        slices.add(ShardSample(f"k{i}", doc), sample_votes(doc))
    got = {v["value"]: v["samples"] for v in slices.result()["columns"][0]["values"]}
    assert len(got) == MAX_VALUES + 1 and got[OTHER] == 5
