"""Reading every input format and writing every output format, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from labelmill.labelers.reports.report_io import ReportInputError, read_reports, write_records

EXPECTED = [("1", "No effusion."), ("b", "Cardiomegaly."), ("3", None)]


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('\ufeffid,text,extra\n1,No effusion.,x\nb,"Cardiomegaly.",y\n3,,z\n', "utf-8")
    assert read_reports(path) == EXPECTED  # an empty cell is a missing text, as in JSONL


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rows = [{"id": 1, "text": "No effusion."}, {"id": "b", "text": "Cardiomegaly."}]
    rows.append({"id": 3, "text": None})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", "utf-8")
    assert read_reports(path) == EXPECTED


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame(
        {"id": ["1", "b", "3"], "text": ["No effusion.", "Cardiomegaly.", None]}
    ).to_parquet(path)
    assert read_reports(path) == EXPECTED


def test_folder_of_txt_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Cardiomegaly.", "utf-8")
    (tmp_path / "a.txt").write_bytes(b"No \xff\xfe effusion.")
    (tmp_path / "notes.md").write_text("ignored", "utf-8")
    assert read_reports(tmp_path) == [("a", "No \ufffd\ufffd effusion."), ("b", "Cardiomegaly.")]


def test_undecodable_csv_bytes_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,text\n1,No \xff effusion.\n")
    assert read_reports(path) == [("1", "No \ufffd effusion.")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.csv", "id,body\n1,x\n", "required column 'text' is missing"),
        ("r.jsonl", '{"id": 1}\n', "required column 'text' is missing"),
        ("r.jsonl", '{"id": 1, "text": "a"}\n{oops\n', "r.jsonl:2: not valid JSON"),
        ("r.jsonl", "[1, 2]\n", "r.jsonl:1: not a JSON object"),
        ("r.csv", "", "empty table"),
        ("r.parquet", "not parquet", "not a readable Parquet"),
        ("r.xlsx", "x", "unknown table format"),
    ],
)
def test_bad_inputs_raise_clear_errors(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(ReportInputError) as caught:
        read_reports(path)
    assert message in str(caught.value)


def test_missing_parquet_column(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame({"id": ["1"]}).to_parquet(path)
    with pytest.raises(ReportInputError, match="required column 'text' is missing"):
        read_reports(path)


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such file"):
        read_reports(tmp_path / "absent.csv")


RECORDS = [
    {
        "id": "1",
        "labels": {"A": 1, "B": None},
        "evidence": [
            {
                "label": "A",
                "status": 1,
                "sentence": "A.",
                "start": 0,
                "end": 1,
                "section": "unknown",
                "trigger": None,
            }
        ],
    },
    {"id": "2", "labels": {"A": None, "B": -1}, "evidence": []},
]


def test_write_jsonl_and_parquet(tmp_path: Path) -> None:
    write_records(tmp_path / "out.jsonl", RECORDS, ["A", "B"])
    lines = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == RECORDS
    write_records(tmp_path / "sub" / "out.parquet", RECORDS, ["A", "B"])
    table = pq.read_table(tmp_path / "sub" / "out.parquet")
    assert table.to_pylist() == RECORDS
    assert str(table.schema.field("labels").type) == "struct<A: int8, B: int8>"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out.jsonl", "out.parquet", "sub"]


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    bad = [{"id": "1", "labels": {"A": "not a number"}, "evidence": []}]
    with pytest.raises(Exception, match="int"):
        write_records(tmp_path / "out.parquet", bad, ["A"])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ReportInputError, match="unknown output format"):
        write_records(tmp_path / "out.txt", RECORDS, ["A", "B"])


def test_write_chexpert_csv(tmp_path: Path) -> None:
    records = [{**RECORDS[0], "text": "A, seen."}, {**RECORDS[1], "text": None}]
    write_records(tmp_path / "out.csv", records, ["A", "B"])
    assert (tmp_path / "out.csv").read_bytes() == b'Reports,A,B\r\n"A, seen.",1,\r\n,,-1\r\n'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('"No effusion, no pneumothorax."\nCardiomegaly.\n', ["No effusion, no pneumothorax.",
                                                              "Cardiomegaly."]),
        ("Reports\nCardiomegaly.\n\"Two\nlines\"\n", ["Cardiomegaly.", "Two\nlines"]),
        ("reports,site\nEdema.,A\n", ["Edema."]),
    ],
)
def test_chexpert_inputs_without_ids_are_numbered(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "reports.csv"
    path.write_text(content, "utf-8")
    assert read_reports(path) == [(str(i), text) for i, text in enumerate(expected, start=1)]
