"""`labelmill harmonize`: the mapping CSV the acceptance checks read, from both input kinds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelmill.pipelines.cli import app


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_text_file_to_mapping_csv(ontology_path: str, tmp_path: Path):
    source = tmp_path / "labels.txt"
    source.write_text("R pleural eff.\nPTX\n\nPTX\npericardial effusion\ndog\n", encoding="utf-8")
    out, details = tmp_path / "mapping.csv", tmp_path / "decisions.jsonl"
    args = ["harmonize", str(source), "--ontology", ontology_path, "--output", str(out)]
    args += ["--cache-dir", str(tmp_path / "cache"), "--details", str(details)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "raw,label,method,score"
    rows = _rows(out)
    assert [r["raw"] for r in rows] == ["R pleural eff.", "PTX", "pericardial effusion", "dog"]
    assert [r["label"] for r in rows] == ["Effusion", "Pneumothorax", "", ""]
    assert rows[0]["method"] == "lexical" and rows[3]["method"] == "unmapped"
    assert "unmapped: 'dog'" in result.output
    reasons = [json.loads(line)["reason"] for line in details.read_text().splitlines()]
    assert "excluded from Effusion" in reasons[2]


def test_manifest_column(ontology_path: str, tmp_path: Path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        'id,image,findings\n1,a.png,Effusion|PTX\n2,b.png,"[""PTX"", ""No Finding""]"\n3,c.png,\n',
        encoding="utf-8",
    )
    out = tmp_path / "mapping.csv"
    args = ["harmonize", str(manifest), "--column", "findings", "--ontology", ontology_path]
    result = CliRunner().invoke(app, [*args, "--output", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert [(r["raw"], r["label"]) for r in _rows(out)] == [
        ("Effusion", "Effusion"),
        ("PTX", "Pneumothorax"),
        ("No Finding", "No Finding"),
    ]
    missing = CliRunner().invoke(app, [*args[:3], "nope", *args[4:], "--output", str(out)])
    assert missing.exit_code != 0 and "no column 'nope'" in missing.output


def _invoke(source: Path, ontology: str, out: Path, *extra: str):
    args = ["harmonize", str(source), "--ontology", ontology, "--output", str(out), "--no-cache"]
    return CliRunner().invoke(app, [*args, *extra])


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_table_without_column_reads_labels(ontology_path: str, tmp_path: Path, suffix: str):
    import pandas as pd

    frame = pd.DataFrame({"id": ["1", "2"], "labels": ["Effusion|PTX", "hydrothorax"]})
    source = tmp_path / f"manifest{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(source)
    elif suffix == ".jsonl":
        frame.to_json(source, orient="records", lines=True)
    else:
        frame.to_csv(source, sep="\t" if suffix == ".tsv" else ",", index=False)
    out = tmp_path / "mapping.csv"
    result = _invoke(source, ontology_path, out)
    assert result.exit_code == 0, result.output
    # Neither the header nor whole rows are mapped: only the labels column's strings.
    assert [r["raw"] for r in _rows(out)] == ["Effusion", "PTX", "hydrothorax"]


def test_table_without_labels_column_names_the_columns(ontology_path: str, tmp_path: Path):
    source = tmp_path / "manifest.csv"
    source.write_text("id,image,findings\n1,a.png,PTX\n", encoding="utf-8")
    result = _invoke(source, ontology_path, tmp_path / "m.csv")
    assert result.exit_code == 2
    assert "no column 'labels'; pass --column NAME (columns: id, image, findings)" in result.output


def test_text_file_is_one_string_per_line(ontology_path: str, tmp_path: Path):
    source = tmp_path / "names.list"
    source.write_text("raw,label\nPTX\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    assert _invoke(source, ontology_path, out).exit_code == 0
    assert [r["raw"] for r in _rows(out)] == ["raw,label", "PTX"]
    assert _invoke(source, ontology_path, out, "--column", "x").exit_code == 2


def test_several_labels_are_written_as_a_b(tmp_path: Path):
    source = tmp_path / "labels.txt"
    source.write_text(
        "hydropneumothorax\npneumothorax: negative\n\x1b]0;pwned\x07\n", encoding="utf-8"
    )
    out = tmp_path / "m.csv"
    result = _invoke(source, "chestxray14", out)
    assert result.exit_code == 0, result.output
    rows = {r["raw"]: r["label"] for r in _rows(out)}
    assert rows["hydropneumothorax"] == "Effusion|Pneumothorax"
    assert rows["pneumothorax: negative"] == ""
    assert "negated" in result.output and "\x1b" not in result.output  # escapes never printed


def test_bad_llm_and_ontology_are_reported(ontology_path: str, tmp_path: Path):
    source = tmp_path / "labels.txt"
    source.write_text("PTX\n", encoding="utf-8")
    out = str(tmp_path / "m.csv")
    for option, value in (("--llm", "gpt"), ("--ontology", "nonesuch")):
        args = [
            "harmonize",
            str(source),
            "--ontology",
            ontology_path,
            "--output",
            out,
            "--no-cache",
        ]
        args += [option, value]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "error:" in result.output, result.output
