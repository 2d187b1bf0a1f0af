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
        "reject_rate": {
            "rate": 0.2,
            "k": 1,
            "n": 5,
            "ci95": [0.036224, 0.624465],  # Wilson 95%
            "low_support": True,
        },
    }
    assert p["rejected_by_reason"] == {"file_not_found": 1}
    assert p["reject_examples"]["file_not_found"][0]["id"] == "s5"
    assert {"source": "image/demo", "classes": 3} in p["labelers"]


def test_distribution(metrics: dict[str, Any]) -> None:
    final = metrics["distribution"]["sources"]["final"]
    a, b = final["labels"]["A"], final["labels"]["B"]
    assert (a["positive"], a["negative"], a["uncertain"]) == (2, 2, 0)
    assert (b["positive"], b["negative"], b["uncertain"]) == (2, 1, 0)
    assert (a["prevalence"]["rate"], a["prevalence"]["k"], a["prevalence"]["n"]) == (0.5, 2, 4)
    assert final["labels_per_sample"] == {"mean": 1.0, "histogram": {"0": 1, "1": 2, "2": 1}}
    assert final["cooccurrence"] == {"labels": ["A", "B"], "counts": [[2, 1], [1, 2]]}
    reports = metrics["distribution"]["sources"]["reports/demo"]["labels"]["A"]
    assert (reports["positive"], reports["negative"], reports["uncertain"]) == (1, 2, 1)
    assert reports["prevalence"]["rate"] == 0.25


def test_labeler_table(metrics: dict[str, Any]) -> None:
    s = metrics["labelers"]["sources"]

    def rates(name: str) -> tuple[float, ...]:
        return tuple(s[name][k]["rate"] for k in ("coverage", "overlap", "conflict"))

    assert rates("manifest") == (0.75, 0.75, 0.5)
    assert rates("rules") == (1, 1, 0.75)
    assert s["manifest"]["coverage"]["n"] == 4
    assert s["manifest"]["polarity"] == [1]
    assert s["reports/demo"]["polarity"] == [-1, 0, 1]
    assert s["reports/demo"]["votes"] == 7
    assert s["reports/demo"]["uncertain"] == 1
    # empirical accuracy of 1/0 votes on gold-known cells
    accuracy = {name: (s[name]["accuracy"]["rate"], s[name]["accuracy"]["n"]) for name in s}
    assert accuracy == {"manifest": (1.0, 3), "reports/demo": (0.8, 5), "rules": (0.5, 6)}


def test_pairwise_kappa(metrics: dict[str, Any]) -> None:
    pairs = {(p["a"], p["b"]): p for p in metrics["labelers"]["pairs"]}
    rr = pairs[("reports/demo", "rules")]
    # 7 shared cells; 6 with 1/0 on both: n11=2, n10=1, n01=1, n00=2 -> po=2/3, pe=1/2
    assert (rr["both_vote"], rr["definite"], rr["conflicts"]) == (7, 6, 2)
    assert (rr["agree"]["k"], rr["agree"]["n"]) == (4, 7)
    assert rr["kappa"] == pytest.approx(1 / 3, abs=1e-6)
    lo, hi = rr["kappa_ci95"]
    assert lo < rr["kappa"] < hi and rr["kappa_na"] is None
    # the manifest only ever votes 1: kappa is 0 by arithmetic, so it is n/a with the reason
    mr = pairs[("manifest", "reports/demo")]
    assert (mr["both_vote"], mr["conflicts"], mr["kappa"], mr["kappa_ci95"]) == (3, 1, None, None)
    assert mr["kappa_na"] == "manifest votes only 1 on the 3 shared cells"
    summary = metrics["summary"]
    assert summary["mean_pairwise_kappa"] == pytest.approx(1 / 3, abs=1e-6)
    assert summary["kappa_pairs"] == {"defined": 1, "pairs": 3}
    # 2 + 1 + 4 agreeing of 3 + 3 + 7 shared cells
    assert (summary["agreement"]["k"], summary["agreement"]["n"]) == (7, 13)


def test_report_mining(metrics: dict[str, Any]) -> None:
    mined = metrics["report_mining"]["sources"]
    assert list(mined) == ["reports/demo"]
    a = mined["reports/demo"]["labels"]["A"]
    assert (a["mentioned"], a["negation_rate"]["rate"], a["uncertainty_rate"]["rate"]) == (
        4,
        0.5,
        0.25,
    )
    assert [e["status"] for e in a["examples"]] == [1, 0, -1]
    assert a["examples"][0] == {
        "key": "s1",
        "status": 1,
        "sentence": "There is finding A.",
        "mention": "finding A",
        "section": "findings",
        "trigger": None,
    }
    assert mined["reports/demo"]["labels"]["B"]["negation_rate"]["k"] == 1


def test_harmonization(metrics: dict[str, Any]) -> None:
    h = metrics["harmonization"]
    assert (h["strings"], h["mapped"], h["unmapped"], h["uses"]) == (3, 2, [UNMAPPED], 4)
    assert (h["mapped_use_rate"]["k"], h["mapped_use_rate"]["n"]) == (3, 4)
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
    top = cal["bins"][9]
    assert (top["low"], top["high"], top["cells"], top["mean_predicted"]) == (0.9, 1.0, 2, 0.925)
    assert (top["observed"]["rate"], top["observed"]["n"]) == (1.0, 2)
    assert top["observed"]["ci95"][0] < 1.0 == top["observed"]["ci95"][1]


def test_gold_metrics(metrics: dict[str, Any]) -> None:
    g = metrics["gold"]
    assert (g["rows"], g["matched"], g["unmatched"], g["unmatched_examples"]) == (5, 4, 1, ["zz"])
    rules_a = g["per_source"]["rules"]["A"]
    assert (rules_a["tp"], rules_a["fp"], rules_a["fn"], rules_a["tn"]) == (1, 0, 1, 2)
    assert (rules_a["precision"], rules_a["recall"]) == (1.0, 0.5)
    assert rules_a["f1"] == pytest.approx(2 / 3, abs=1e-6)
    lo, hi = rules_a["ci95"]["f1"]
    assert lo <= rules_a["f1"] <= hi
    # 1 of 1 right: not a measured 100% (a percentile bootstrap would say [1, 1])
    assert rules_a["ci95"]["precision"] == [0.206549, 1.0]
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


def test_suspects_ranked_by_self_confidence(metrics: dict[str, Any]) -> None:
    s = metrics["suspects"]
    assert s["samples_with_conflict"] == 3
    assert (s["conflict_rate"]["k"], s["conflict_rate"]["n"]) == (3, 4)
    assert s["conflicting_labels_per_sample"] == {"0": 1, "1": 3}
    # lowest self-confidence: s4 rules 0 on B at p .95; s1 rules 1 on B at .2; s2 0s on A at .6
    assert [(x["key"], x["score"]) for x in s["top"]] == [
        ("s4", 0.95),
        ("s1", 0.8),
        ("s2", 0.6),
        ("s3", 0.3),
    ]
    s4 = s["top"][0]["cells"][0]
    assert (s4["label"], s4["final"], s4["votes"]) == (
        "B",
        0.95,
        {"manifest": 1, "reports/demo": 1, "rules": 0},
    )
    # confident issue: p(B) .95 >= rules' mean self-confidence on its 1-votes for B (.2+.7)/2
    assert s4["issues"] == ["rules"]
    assert s4["evidence"]["reports/demo"] == {
        "kind": "sentence",
        "status": 1,
        "sentence": "There is finding B.",
        "mention": "finding B",
        "section": "findings",
        "trigger": None,
    }
    assert s4["evidence"]["manifest"] == {"kind": "raw", "raw": "b raw"}
    assert [x["confident_issues"] for x in s["top"]] == [1, 1, 0, 0]
    assert s["top"][3]["cells"] == [] and s["top"][3]["uncertain"] == [
        {"source": "reports/demo", "label": "A"}
    ]
    assert s["csv"] == "suspects.csv"


def test_source_accuracy_from_the_label_model(metrics: dict[str, Any]) -> None:
    rows = {(r["source"], r["label"]): r for r in metrics["source_accuracy"]["rows"]}
    manifest_a = rows[("manifest", "A")]
    # votes 1 on s1 (q .9) and s2 (q .6): tp 1.5, fn 0, fp .5; Beta prior 3.2 good of 4
    assert manifest_a["votes"] == 2
    assert manifest_a["sensitivity"]["value"] == pytest.approx(4.7 / 5.5, abs=1e-6)
    assert manifest_a["specificity"]["value"] == pytest.approx(3.2 / 4.5, abs=1e-6)
    lo, hi = manifest_a["sensitivity"]["ci95"]
    assert lo < manifest_a["sensitivity"]["value"] < hi
    # gold: the manifest's 1-votes on A are on s1, s2 (both gold 1): sensitivity 2 of 2
    gold = manifest_a["gold"]
    assert (gold["sensitivity"]["k"], gold["sensitivity"]["n"]) == (2, 2)
    assert gold["specificity"]["rate"] is None  # it never voted on a gold negative
    assert metrics["source_accuracy"]["method"] == "dawid-skene"


def test_families_and_support_flags(metrics: dict[str, Any]) -> None:
    families = metrics["families"]
    assert families["counts"] == {"findings": 2, "image-model classes": 0, "source labels": 0}
    assert families["family"] == {"A": "findings", "B": "findings"}
    assert metrics["summary"]["min_support"] == 20
    assert metrics["summary"]["conflict_rate"]["low_support"]  # n=4 < 20


def test_summary_lists_every_section(metrics: dict[str, Any]) -> None:
    have = metrics["summary"]["sections"]
    assert all(v for k, v in have.items() if k != "slices") and not have["slices"]
    assert metrics["summary"]["sources"] == ["manifest", "reports/demo", "rules"]
