"""metrics.json of the hand-made build against numbers worked out by hand (see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labelmill.audit import audit

UNMAPPED = "<script>x</script> & co"


@pytest.fixture(scope="module")
def metrics(hand_build: Path, gold_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("report")
    audit(str(hand_build), str(out), str(gold_csv))
    return json.loads((out / "metrics.json").read_text())


def test_provenance(metrics: dict[str, Any]) -> None:
    p = metrics["provenance"]
    assert p["counts"] == {
        "read": 5,
        "written": 4,
        "rejected": 1,
        "balanced": True,
        "streamed": 4,
        "reject_rate": 0.2,
    }
    assert p["rejected_by_reason"] == {"file_not_found": 1}
    assert p["reject_examples"]["file_not_found"][0]["id"] == "s5"
    assert {"source": "image/demo", "classes": 3} in p["labelers"]


def test_distribution(metrics: dict[str, Any]) -> None:
    final = metrics["distribution"]["sources"]["final"]
    assert final["labels"]["A"] == {"positive": 2, "negative": 2, "uncertain": 0, "prevalence": 0.5}
    assert final["labels"]["B"] == {"positive": 2, "negative": 1, "uncertain": 0, "prevalence": 0.5}
    assert final["labels_per_sample"] == {"mean": 1.0, "histogram": {"0": 1, "1": 2, "2": 1}}
    assert final["cooccurrence"] == {"labels": ["A", "B"], "counts": [[2, 1], [1, 2]]}
    reports = metrics["distribution"]["sources"]["reports/demo"]["labels"]["A"]
    assert reports == {"positive": 1, "negative": 2, "uncertain": 1, "prevalence": 0.25}


def test_labeler_table(metrics: dict[str, Any]) -> None:
    s = metrics["labelers"]["sources"]
    assert (s["manifest"]["coverage"], s["manifest"]["overlap"], s["manifest"]["conflict"]) == (
        0.75,
        0.75,
        0.5,
    )
    assert (s["rules"]["coverage"], s["rules"]["overlap"], s["rules"]["conflict"]) == (1, 1, 0.75)
    assert s["manifest"]["polarity"] == [1]
    assert s["reports/demo"]["polarity"] == [-1, 0, 1]
    assert s["reports/demo"]["votes"] == 7
    assert s["reports/demo"]["uncertain"] == 1
    # empirical accuracy of 1/0 votes on gold-known cells
    assert (s["manifest"]["accuracy"], s["manifest"]["gold_votes"]) == (1.0, 3)
    assert (s["reports/demo"]["accuracy"], s["reports/demo"]["gold_votes"]) == (0.8, 5)
    assert (s["rules"]["accuracy"], s["rules"]["gold_votes"]) == (0.5, 6)


def test_pairwise_kappa(metrics: dict[str, Any]) -> None:
    pairs = {(p["a"], p["b"]): p for p in metrics["labelers"]["pairs"]}
    rr = pairs[("reports/demo", "rules")]
    # 7 shared cells; 6 with 1/0 on both: n11=2, n10=1, n01=1, n00=2 -> po=2/3, pe=1/2
    assert (rr["both_vote"], rr["definite"], rr["conflicts"]) == (7, 6, 2)
    assert rr["agree"] == pytest.approx(4 / 7, abs=1e-6)
    assert rr["kappa"] == pytest.approx(1 / 3, abs=1e-6)
    mr = pairs[("manifest", "reports/demo")]
    assert (mr["both_vote"], mr["conflicts"], mr["kappa"]) == (3, 1, 0.0)
    assert metrics["summary"]["mean_pairwise_kappa"] == pytest.approx(1 / 9, abs=1e-6)


def test_report_mining(metrics: dict[str, Any]) -> None:
    mined = metrics["report_mining"]["sources"]
    assert list(mined) == ["reports/demo"]
    a = mined["reports/demo"]["labels"]["A"]
    assert (a["mentioned"], a["negation_rate"], a["uncertainty_rate"]) == (4, 0.5, 0.25)
    assert [e["status"] for e in a["examples"]] == [1, 0, -1]
    assert a["examples"][0] == {
        "key": "s1",
        "status": 1,
        "sentence": "There is finding A.",
        "mention": "finding A",
        "section": "findings",
        "trigger": None,
    }
    assert mined["reports/demo"]["labels"]["B"]["negation_rate"] == pytest.approx(1 / 3, abs=1e-6)


def test_harmonization(metrics: dict[str, Any]) -> None:
    h = metrics["harmonization"]
    assert (h["strings"], h["mapped"], h["unmapped"], h["uses"]) == (3, 2, [UNMAPPED], 4)
    assert h["mapped_use_rate"] == 0.75
    rows = [(r["raw"], r["label"], r["method"], r["samples"]) for r in h["table"]]
    assert rows == [  # most used first, then by string
        ("a-raw", "A", "lexical", 2),
        (UNMAPPED, None, "unmapped", 1),
        ("b raw", "B", "embedding", 1),
    ]
    assert h["table"][2]["score"] == 0.812346


def test_aggregation(metrics: dict[str, Any]) -> None:
    a = metrics["aggregation"]
    assert (a["cells"], a["disagree_with_majority"]) == (7, 2)
    assert [
        (e["key"], e["label"], e["final"], e["majority"]) for e in a["disagreement_examples"]
    ] == [("s1", "B", 0, 1), ("s2", "A", 1, 0)]
    assert a["confidence_histogram"]["counts"] == [0, 1, 1, 1, 0, 0, 1, 1, 0, 2]
    cal = a["calibration"]
    assert cal["cells"] == 6
    assert cal["brier"] == pytest.approx(0.3125 / 6, abs=1e-6)
    assert cal["ece"] == pytest.approx(1.15 / 6, abs=1e-6)
    assert cal["bins"][9] == {
        "low": 0.9,
        "high": 1.0,
        "cells": 2,
        "mean_predicted": 0.925,
        "observed": 1.0,
    }


def test_gold_metrics(metrics: dict[str, Any]) -> None:
    g = metrics["gold"]
    assert (g["rows"], g["matched"], g["unmatched"], g["unmatched_examples"]) == (5, 4, 1, ["zz"])
    rules_a = g["per_source"]["rules"]["A"]
    assert (rules_a["tp"], rules_a["fp"], rules_a["fn"], rules_a["tn"]) == (1, 0, 1, 2)
    assert (rules_a["precision"], rules_a["recall"]) == (1.0, 0.5)
    assert rules_a["f1"] == pytest.approx(2 / 3, abs=1e-6)
    lo, hi = rules_a["ci95"]["f1"]
    assert lo <= rules_a["f1"] <= hi
    assert rules_a["ci95"]["precision"] == [1.0, 1.0]  # no false positive can be resampled
    rules_b = g["per_source"]["rules"]["B"]
    assert (rules_b["n"], rules_b["precision"], rules_b["f1"]) == (3, 0.0, 0.0)  # s2's B unknown
    assert g["per_source"]["final"]["B"]["f1"] == 1.0


def test_label_maps(metrics: dict[str, Any]) -> None:
    lm = metrics["label_maps"]
    assert lm["samples_with_maps"] == 2
    assert lm["top_classes"] == [
        {"class": 0, "name": "background", "mean_area": 0.5},
        {"class": 1, "name": "lung", "mean_area": 0.375},
        {"class": 2, "name": "heart", "mean_area": 0.125},
    ]
    s1 = lm["gallery"][0]
    assert s1["key"] == "s1"
    assert [(c["name"], c["share"]) for c in s1["classes"]] == [("lung", 0.75), ("heart", 0.25)]


def test_suspects(metrics: dict[str, Any]) -> None:
    s = metrics["suspects"]
    assert s["samples_with_conflict"] == 3
    assert s["conflicting_labels_per_sample"] == {"0": 1, "1": 3}
    assert [x["key"] for x in s["top"]] == ["s1", "s2", "s4", "s3"]
    assert s["top"][1]["conflicts"] == [
        {"label": "A", "votes": {"manifest": 1, "reports/demo": 0, "rules": 0}, "final": 0.6}
    ]
    assert s["top"][3]["uncertain_votes"] == 1
    assert s["top"][3]["uncertain"] == [{"source": "reports/demo", "label": "A"}]


def test_summary_lists_every_section(metrics: dict[str, Any]) -> None:
    assert all(metrics["summary"]["sections"].values())
    assert metrics["summary"]["sources"] == ["manifest", "reports/demo", "rules"]
