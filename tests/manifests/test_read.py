import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelmill.manifests.read import ManifestError, parse_labels, read_inputs


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_csv_columns_metadata_and_relative_paths(tmp_path):
    path = write(
        tmp_path / "m.csv", "id,image,report,labels,site\na,img/a.png,No effusion.,x|y,B\n"
    )
    rows, rejects = read_inputs(path)
    assert rejects == []
    (row,) = rows
    assert (row.id, row.image, row.report, row.labels) == (
        "a",
        "img/a.png",
        "No effusion.",
        ("x", "y"),
    )
    assert row.meta == {"site": "B"}
    assert row.resolve(row.image) == f"{tmp_path}/img/a.png"
    assert row.resolve("/abs/b.png") == "/abs/b.png"
    assert row.resolve("gs://bucket/c.png") == "gs://bucket/c.png"


def test_missing_required_column_names_it(tmp_path):
    path = write(tmp_path / "m.csv", "id,picture\na,b.png\n")
    with pytest.raises(ManifestError, match="'image'"):
        read_inputs(path)


def test_ragged_rows_are_rejected_with_row_number(tmp_path):
    path = write(tmp_path / "m.csv", "id,image\na,a.png\nb,b.png,extra\nc\nd,d.png\n")
    rows, rejects = read_inputs(path)
    assert [r.id for r in rows] == ["a", "d"]
    assert [(r.row, r.reason) for r in rejects] == [(2, "bad_row"), (3, "bad_row")]


def test_bom_is_ignored_and_wrong_encoding_is_a_clear_error(tmp_path):
    rows, _ = read_inputs(write(tmp_path / "bom.csv", "\ufeffid,image\na,a.png\n"))
    assert rows[0].id == "a"
    latin = write(tmp_path / "latin.csv", "id,image,note\na,a.png,caf\u00e9\n", "latin-1")
    with pytest.raises(ManifestError, match="not utf-8 text.*offset"):
        read_inputs(latin)
    rows, _ = read_inputs(latin, encoding="latin-1")
    assert rows[0].meta["note"] == "caf\u00e9"


def test_jsonl_and_parquet_keep_lists_and_clean_nan(tmp_path):
    records = [{"id": "a", "image": "a.png", "labels": ["x", "y"], "score": float("nan")}]
    jsonl = write(tmp_path / "m.jsonl", "\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    rows, rejects = read_inputs(jsonl)
    assert rows[0].labels == ("x", "y") and rows[0].meta == {"score": None}
    assert [(r.row, r.reason) for r in rejects] == [(2, "bad_row")]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "m.parquet")
    rows, _ = read_inputs(str(tmp_path / "m.parquet"))
    assert rows[0].labels == ("x", "y") and rows[0].meta == {"score": None}


def test_folder_mode_matches_reports_by_stem(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "images" / "b.png").write_bytes(b"x")
    (tmp_path / "images" / "a.jpg").write_bytes(b"x")
    (tmp_path / "reports" / "a.txt").write_text("text")
    rows, _ = read_inputs(str(tmp_path))
    assert [(r.id, r.image, r.report_path) for r in rows] == [
        ("a", "images/a.jpg", "reports/a.txt"),
        ("b", "images/b.png", None),
    ]


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ManifestError, match="unknown table format"):
        read_inputs(write(tmp_path / "m.xlsx", "x"))
    with pytest.raises(ManifestError, match="no such file"):
        read_inputs(str(tmp_path / "nope.csv"))


def test_labels_forms():
    assert parse_labels("a|b| |c") == ("a", "b", "c")
    assert parse_labels('["a", "b|c"]') == ("a", "b|c")
    assert parse_labels(None) == () and parse_labels(float("nan")) == ()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), max_size=5), max_size=8))
def test_fuzzed_csv_accounts_for_every_record(tmp_path_factory, table):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "image", "labels"])
    writer.writerows(table)
    path = tmp_path_factory.mktemp("fuzz") / "m.csv"
    path.write_bytes(out.getvalue().encode())
    records = [r for r in list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:] if r]
    try:
        rows, rejects = read_inputs(str(path))
    except ManifestError as exc:  # a record across lines that is ragged or holds a row-like
        assert "a quoted field opens here" in str(exc)  # line reads as a stray quote
        assert any(any("\n" in v or "\r" in v for v in r) for r in records)
        return
    assert len(rows) + len(rejects) == len(records)
    assert all(r.reason == "bad_row" for r in rejects)
    usable = [r for r in records if len(r) == 3 and "\x00" not in r[0] + r[1]]  # NUL: rejected
    assert [row.id for row in rows] == [r[0].strip() for r in usable]
