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
