"""The audit command end to end: files written, sections that say what a build lacks,
a self-contained and deterministic page, and the command line."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelmill.audit import AuditConfig, audit
from labelmill.audit.report import CSV_COLUMNS, suspects_csv
from labelmill.pipelines.cli import app


def test_sample_build_says_what_it_lacks(sample_build: Path, tmp_path: Path) -> None:
    metrics = audit(str(sample_build), str(tmp_path))
    page = (tmp_path / "index.html").read_text()
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    have = metrics["summary"]["sections"]
    assert have["provenance"] and have["distribution"] and have["labelers"]
    assert not any(have[s] for s in ("report_mining", "aggregation", "gold", "label_maps"))
    assert metrics["provenance"]["counts"]["streamed"] == metrics["provenance"]["counts"]["written"]
    for lack in (
        "No report miner ran in this build",
        "Manifest labels were not harmonized",
        "No final labels: the build ran without an aggregator",
        "No gold file given",
        "No label maps in this build",
        "No label-model estimates",
        "No slices asked for",
    ):
        assert lack in page
    assert metrics["summary"]["gold_matched"] is None


def test_build_without_samples_still_reports(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    counts = {"read": 2, "written": 0, "rejected": 2, "balanced": True}
    (build / "run.json").write_text(json.dumps({"counts": counts, "shards": []}))
    metrics = audit(str(build), str(tmp_path / "report"))
    assert metrics["distribution"]["samples"] == 0
    assert metrics["summary"]["sections"]["provenance"]
    assert not metrics["summary"]["sections"]["distribution"]
    assert "The build has no samples." in (tmp_path / "report" / "index.html").read_text()


def test_page_is_self_contained_and_deterministic(
    hand_build: Path, gold_csv: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    audit(str(hand_build), str(first), str(gold_csv))
    audit(str(hand_build), str(second), str(gold_csv))
    page = (first / "index.html").read_bytes()
    assert page == (second / "index.html").read_bytes()
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    text = page.decode()
    assert "<script" not in text  # the fixture's raw label "<script>x</script> & co" is escaped
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    plots = re.findall(r'<img src="data:image/png;base64,', text)
    pictures = re.findall(r'<img src="data:image/(?:webp|png);base64,', text)
    assert len(plots) >= 8  # label counts, co-occurrence, kappa, mining, calibration, F1
    assert len(pictures) >= len(plots) + 2 + 4  # + gallery overlays + suspect thumbnails
    for heading in ("Provenance", "Labelers", "Harmonization", "Gold metrics", "Suspect samples"):
        assert f"<h2>{heading}</h2>" in text
    assert "Sections without data: Slices." in text


def test_cli_writes_the_report(hand_build: Path, gold_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = ["audit", str(hand_build), "--output", str(out), "--gold", str(gold_csv)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    assert json.loads((out / "metrics.json").read_text())["gold"]["matched"] == 4
    assert "audited 4 samples from 3 labelers" in result.output
    assert "gold columns mapped (" in result.output  # the hand build's ontology does not load


def test_cli_rejects_bad_inputs(hand_build: Path, tmp_path: Path) -> None:
    bad_gold = tmp_path / "gold.csv"
    bad_gold.write_text("name,A\nx,1\n")
    runner = CliRunner()
    result = runner.invoke(
        app, ["audit", str(hand_build), "-o", str(tmp_path / "r"), "--gold", str(bad_gold)]
    )
    assert result.exit_code == 2
    assert "needs an 'id' or 'key' column" in result.output
    result = runner.invoke(app, ["audit", str(tmp_path / "nothing"), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "not a build folder" in result.output
    assert not (tmp_path / "r").exists()


def test_harmonizer_decisions_from_the_work_folder(hand_build: Path, tmp_path: Path) -> None:
    """A build keeps the decisions in _work/harmonize.json; run.json need not carry them."""
    build = tmp_path / "build"
    shutil.copytree(hand_build, build)
    run = json.loads((build / "run.json").read_text())
    record = {"harmonizer": {"ontology": "demo", "llm": "none"}, **run.pop("harmonize")}
    (build / "run.json").write_text(json.dumps(run))
    (build / "_work").mkdir()
    (build / "_work" / "harmonize.json").write_text(json.dumps(record))
    metrics = audit(str(build), str(tmp_path / "report"))
    h = metrics["harmonization"]
    assert h["decisions_recorded"]
    assert h["harmonizer"] == {"ontology": "demo", "llm": "none"}
    assert h["methods"] == {"embedding": 1, "lexical": 1, "unmapped": 1}
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Harmonizer: llm <code>none</code>; ontology <code>demo</code>" in page


def test_suspects_csv_lists_every_vote_of_the_top_suspects(
    hand_build: Path, gold_csv: Path, tmp_path: Path
) -> None:
    audit(str(hand_build), str(tmp_path), str(gold_csv))
    rows = list(csv.DictReader((tmp_path / "suspects.csv").open()))
    first = [r for r in rows if r["rank"] == "1"]
    assert {r["key"] for r in first} == {"s4"}
    by_source = {r["source"]: r for r in first}
    assert by_source["rules"]["vote"] == "0" and by_source["rules"]["confident_issue"] == "True"
    assert by_source["reports/demo"]["evidence"] == "There is finding B."
    assert by_source["rules"]["self_confidence"] == "0.05"
    assert [r["key"] for r in rows if r["rank"] == "3"][0] == "s2"


def test_csv_cells_that_would_run_as_formulas_are_quoted() -> None:
    rows = [{k: "" for k in CSV_COLUMNS} | {"evidence": "=HYPERLINK(1)", "key": "k"}]
    text = suspects_csv(rows).decode()
    assert "'=HYPERLINK(1)" in text and ",k," in text


def test_cli_prints_how_gold_columns_were_mapped(
    hand_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELMILL_CACHE", str(tmp_path / "cache"))
    build = tmp_path / "build"
    shutil.copytree(hand_build, build)
    run = json.loads((build / "run.json").read_text())
    run["config"]["harmonize"] = {"ontology": "chestxray14", "llm": "none"}
    (build / "run.json").write_text(json.dumps(run))
    gold = tmp_path / "gold.csv"
    gold.write_text("id,effusion,no pneumothorax\ns1,1,0\n")
    args = ["audit", str(build), "-o", str(tmp_path / "r"), "--gold", str(gold)]
    result = CliRunner().invoke(app, [*args, "--slice-by", "site", "--min-support", "2"])
    assert result.exit_code == 0, result.output
    assert "gold columns mapped onto chestxray14:" in result.output
    assert re.search(r"effusion\s+-> Effusion\s+lexical 1.00", result.output)
    assert "unmatched: no pneumothorax" in result.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["summary"]["slice_by"] == ["site"] and metrics["summary"]["min_support"] == 2
    assert not metrics["summary"]["agreement"]["low_support"]  # n=13 >= 2


def test_page_size_does_not_grow_with_the_build(tmp_path: Path, synthetic: Any) -> None:
    """Plots summarise and tables cap: 4x the samples (1000 classes, 300 raw labels, 30 sites)
    leaves the page about the same size, far under 1 MB."""
    sizes = []
    for n in (100, 400):
        build = synthetic(tmp_path / f"b{n}", n, per_shard=150)
        audit(str(build), str(tmp_path / f"r{n}"), config=AuditConfig(slice_by=("site",)))
        sizes.append((tmp_path / f"r{n}" / "index.html").stat().st_size)
    assert sizes[1] < 1_000_000
    assert sizes[1] < 1.15 * sizes[0], sizes
