"""`labelmill label-reports`: each input format in, each output format out, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labelmill.pipelines.label_reports import register
from labelmill.schemas.ontology import load_ontology

REPORTS = {
    "r1": "FINDINGS: No pneumothorax but a small effusion.\nIMPRESSION: Cardiomegaly.",
    "r0": "INDICATION: evaluate for pneumonia. FINDINGS: Heart size is normal.",
    "r2": "",
}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # keeps label-reports a named subcommand
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["label-reports", *args])
    return result.exit_code, result.output


def write_input(folder: Path, kind: str) -> Path:
    frame = pd.DataFrame({"id": list(REPORTS), "text": list(REPORTS.values())})
    if kind == "folder":
        folder.mkdir()
        for report_id, text in REPORTS.items():
            (folder / f"{report_id}.txt").write_text(text, "utf-8")
        return folder
    path = folder.with_suffix(f".{kind}")
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet", "folder"])
def test_each_input_format(app: typer.Typer, tmp_path: Path, kind: str) -> None:
    source = write_input(tmp_path / "reports", kind)
    out = tmp_path / "out.jsonl"
    code, output = run(app, str(source), "--ontology", "chestxray14", "--output", str(out))
    assert code == 0, output
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    order = sorted(REPORTS) if kind == "folder" else list(REPORTS)
    assert [r["id"] for r in records] == order
    by_id = {r["id"]: r for r in records}
    assert list(by_id["r1"]["labels"]) == load_ontology("chestxray14").labels
    mentioned = {k: v for k, v in by_id["r1"]["labels"].items() if v is not None}
    assert mentioned == {"Pneumothorax": 0, "Effusion": 1, "Cardiomegaly": 1}
    assert {k: v for k, v in by_id["r0"]["labels"].items() if v is not None} == {"Cardiomegaly": 0}
    assert set(by_id["r2"]["labels"].values()) == {None} and by_id["r2"]["evidence"] == []


def test_parquet_output_with_workers_and_user_ontology(app: typer.Typer, tmp_path: Path) -> None:
    ontology = tmp_path / "tiny.yaml"
    ontology.write_text("name: tiny\nlabels:\n  - name: Effusion\n", "utf-8")
    source = write_input(tmp_path / "reports", "csv")
    out = tmp_path / "out.parquet"
    code, output = run(
        app, str(source), "--ontology", str(ontology), "--output", str(out), "--workers", "2"
    )
    assert code == 0, output
    frame = pd.read_parquet(out)
    assert list(frame["id"]) == list(REPORTS)
    assert [row["Effusion"] for row in frame["labels"]] == [1, None, None]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_column", "required column 'text' is missing"),
        ("missing_input", "no such file"),
        ("bad_ontology", "neither a built-in"),
        ("bad_output", "unknown output format"),
    ],
)
def test_errors_exit_2_with_a_message(
    app: typer.Typer, tmp_path: Path, setup: str, message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,x\n" if setup == "missing_column" else "id,text\n1,x\n")
    args = [str(source), "--output", str(tmp_path / "out.jsonl")]
    if setup == "missing_input":
        args[0] = str(tmp_path / "absent.csv")
    if setup == "bad_ontology":
        args += ["--ontology", "nosuch"]
    if setup == "bad_output":
        args[2] = str(tmp_path / "out.txt")
    code, output = run(app, *args)
    assert code == 2
    assert message in output
    assert not (tmp_path / "out.jsonl").exists()


CHEXPERT_INPUT = (
    '"FINDINGS: No pneumothorax, but a small effusion. IMPRESSION: Cardiomegaly."\n'
    "Possible pneumonia.\n"
    "\n"
)


@pytest.mark.parametrize(
    ("policy", "pneumonia"), [("keep", "-1"), ("zeros", "0"), ("ones", "1")]
)
def test_chexpert_labeler_input_and_output_shape(
    app: typer.Typer, tmp_path: Path, policy: str, pneumonia: str
) -> None:
    source = tmp_path / "reports.csv"
    source.write_text(CHEXPERT_INPUT, "utf-8")
    out = tmp_path / "labeled_reports.csv"
    code, output = run(
        app, str(source), "--ontology", "chexpert", "--output", str(out), "--uncertain", policy
    )
    assert code == 0, output
    assert output == f"labelled 2 reports in {output.split(' in ')[1].split(' s ')[0]} s -> {out}\n"
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["Reports", *load_ontology("chexpert").labels]
    first_report = CHEXPERT_INPUT.split("\n")[0].strip('"')
    assert list(frame["Reports"]) == [first_report, "Possible pneumonia."]
    first, second = frame.to_dict("records")
    found = (first["Pneumothorax"], first["Pleural Effusion"], first["Cardiomegaly"])
    assert found == ("0", "1", "1")
    assert second["Pneumonia"] == pneumonia and second["Edema"] == ""
    assert set(frame.drop(columns="Reports").to_numpy().ravel()) <= {"1", "0", "-1", ""}


def test_one_report_is_singular(app: typer.Typer, tmp_path: Path) -> None:
    source = tmp_path / "one.csv"
    source.write_text("Reports\nNo effusion.\n", "utf-8")
    code, output = run(app, str(source), "--output", str(tmp_path / "o.jsonl"))
    assert code == 0 and output.startswith("labelled 1 report in ")
    record = json.loads((tmp_path / "o.jsonl").read_text())
    assert record["id"] == "1" and record["labels"]["Effusion"] == 0


def test_unknown_uncertain_policy(app: typer.Typer, tmp_path: Path) -> None:
    source = tmp_path / "one.csv"
    source.write_text("Reports\nNo effusion.\n", "utf-8")
    code, output = run(app, str(source), "--output", str(tmp_path / "o.csv"), "--uncertain", "u")
    assert (code, output) == (2, "error: --uncertain: expected one of keep, zeros, ones, got 'u'\n")
    assert not (tmp_path / "o.csv").exists()


def _peak_rss_kb(n: int, folder: Path) -> int:
    """Peak RSS of `label-reports` over `n` generated reports, in a fresh process."""
    import subprocess
    import sys

    source = folder / f"r{n}.csv"
    with source.open("w") as fh:
        fh.write("id,text\n")
        for i in range(n):
            padding = "x" * 400
            fh.write(f"{i},FINDINGS: Small effusion number {i}. No pneumothorax. {padding}\n")
    code = (
        "import resource, sys; from labelmill.pipelines.cli import main; "
        f"sys.argv = ['labelmill', 'label-reports', {str(source)!r}, '--output', "
        f"{str(folder / f'o{n}.parquet')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_peak_memory_is_flat_in_the_number_of_reports(tmp_path: Path) -> None:
    small, large = _peak_rss_kb(2_000, tmp_path), _peak_rss_kb(40_000, tmp_path)
    assert pd.read_parquet(tmp_path / "o40000.parquet").shape[0] == 40_000
    assert large - small < 40_000, (small, large)  # < 40 MB more for 20x the reports


def test_language_option(app: typer.Typer, tmp_path: Path) -> None:
    source = tmp_path / "es.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["Derrame pleural izquierdo.", "Sin derrame."]}).to_csv(
        source, index=False
    )
    out = tmp_path / "es.jsonl"
    code, _ = run(app, str(source), "--output", str(out), "--language", "es")
    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["labels"]["Effusion"] for r in records] == [1, 0]
    code, output = run(app, str(source), "--output", str(out), "--language", "xx")
    assert code == 2 and "unknown report language 'xx'" in output
