"""Hostile manifests, generated here: every kind is read with each row counted, or refused with
one message naming the file and the line; never a crash, a hang or a silent miscount."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelmill.manifests.read import read_inputs
from labelmill.manifests.tables import TableError, iter_table


def rows_of(path, **kwargs):
    return list(iter_table(str(path), ("id", "image"), **kwargs))


def test_unterminated_quote_refuses_naming_the_line_where_it_opens(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('id,image,report\na,a.png,ok\nb,b.png,"no effusion\nc,c.png,x\nd,d.png,y\n')
    with pytest.raises(TableError, match=r"m\.csv: line 3: a quoted field opens here"):
        rows_of(path)


def test_quote_closing_rows_later_with_wrong_field_count_is_refused(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('id,image,report\na,a.png,"one\nb,b.png,two"\nc,c.png,z\n')
    with pytest.raises(TableError, match="line 2: a quoted field opens here and runs to line 3"):
        rows_of(path)


def test_a_stray_quote_on_one_line_is_a_row_reject_and_counting_goes_on(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('id,image,report\na,a.png,"said" no\nb,b.png,fine\n')
    found = rows_of(path)
    assert [n for n, _ in found] == [1, 2]
    assert "line 2" in found[0][1] and found[1][1]["id"] == "b"


def test_quoted_multiline_report_is_one_row(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('id,image,report\na,a.png,"Findings:\nno effusion."\nb,b.png,x\n')
    found = rows_of(path)
    assert [r["id"] for _, r in found] == ["a", "b"]
    assert found[0][1]["report"] == "Findings:\nno effusion."


def test_duplicate_columns_are_refused_naming_them(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,image,image\na,a.png,b.png\n")
    with pytest.raises(TableError, match="'image' appear more than once"):
        rows_of(path)


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_reads_the_same_rows(tmp_path, ending):
    path = tmp_path / "m.csv"
    path.write_bytes(ending.join(["id,image", "a,a.png", "b,b.png", ""]).encode())
    assert [r["id"] for _, r in rows_of(path)] == ["a", "b"]


def test_a_field_over_128_kib_is_read(tmp_path):
    report = "No pneumothorax. " * 20_000  # 340 KB, over csv's default 128 KiB field limit
    path = tmp_path / "m.csv"
    path.write_text(f'id,image,report\na,a.png,"{report}"\n')
    ((_, row),) = rows_of(path)
    assert row["report"] == report


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,image\n\na,a.png\n\n\nb,b.png,extra\nc,c.png\n")
    found = rows_of(path)
    assert [n for n, _ in found] == [1, 2, 3]
    assert "line 6" in found[1][1] and found[2][1]["id"] == "c"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('\n{"id": "a", "image": "a"}\n\n[1]\n')
    assert [n for n, _ in rows_of(jsonl)] == [1, 2]


def test_jsonl_nested_100k_deep_is_a_row_reject(tmp_path):
    path = tmp_path / "m.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(
        f'{{"id": "a", "image": "a.png", "meta": {deep}}}\n{{"id": "b", "image": "b"}}\n'
    )
    found = rows_of(path)
    assert "nested too deeply" in found[0][1] and found[1][1]["id"] == "b"
    middling = "[" * 200 + "]" * 200  # readable JSON, but deeper than any stage should carry
    path.write_text(f'{{"id": "a", "image": "a.png", "meta": {middling}}}\n')
    assert "nested deeper than" in rows_of(path)[0][1]


def test_lone_surrogates_are_row_rejects_naming_the_column(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [
        '{"id": "a\\ud800", "image": "a.png"}',
        '{"id": "b", "image": "b.png", "labels": ["x\\udfff"]}',
        '{"id": "c", "image": "c.png", "meta": {"k": "\\ud83d"}}',
        '{"id": "d", "image": "d.png"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    rows, rejects = read_inputs(str(path))
    assert [r.id for r in rows] == ["d"]
    assert [(r.row, "surrogate" in r.detail) for r in rejects] == [(1, True), (2, True), (3, True)]
    assert "'labels'" in rejects[1].detail


def test_nul_in_a_path_is_a_row_reject(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "image": "a\\u0000.png"}\n{"id": "b", "image": "b.png"}\n')
    rows, rejects = read_inputs(str(path))
    assert [r.id for r in rows] == ["b"] and "NUL" in rejects[0].detail


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_utf16_and_utf32_manifests_are_named_or_read(tmp_path, encoding):
    path = tmp_path / "m.csv"
    path.write_bytes("id,image\na,a.png\n".encode(encoding))
    with pytest.raises(TableError, match="UTF-(16|32)"):
        rows_of(path)
    if encoding != "utf-16-le":  # the BOM tells the codec the byte order
        assert [r["id"] for _, r in rows_of(path, encoding=encoding)] == ["a"]


def test_unknown_or_non_text_encoding_is_refused(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,image\na,a.png\n")
    for encoding in ("rot13", "no-such-codec"):
        with pytest.raises(TableError, match="encoding"):
            rows_of(path, encoding=encoding)


def test_json_array_manifest_is_read_as_rows(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"id": "a", "image": "a.png"}, [1], {"id": "b"}]))
    found = rows_of(path)
    assert found[0][1]["id"] == "a"
    assert "not a JSON object (array element 2)" in found[1][1]
    assert "column 'image' is missing" in found[2][1] and "(array element 3)" in found[2][1]


def test_jsonl_first_object_lacking_a_column_rejects_only_that_row(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "report": "x"}\n{"id": "b", "image": "b.png"}\n')
    found = rows_of(path)
    assert "required column 'image' is missing, keys: id, report (line 1)" in found[0][1]
    assert found[1][1]["id"] == "b"


def test_binary_parquet_id_or_image_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "m.parquet"
    table = pa.table({"id": pa.array([b"a"], pa.binary()), "image": ["a.png"]})
    pq.write_table(table, path)
    with pytest.raises(TableError, match="column 'id' holds binary values"):
        list(iter_table(str(path), ("id", "image"), text=("id", "image")))
    table = pa.table({"id": ["a"], "image": ["a.png"], "report": pa.array([b"r"], pa.binary())})
    pq.write_table(table, path)
    with pytest.raises(TableError, match="column 'report'"):
        read_inputs(str(path))


def test_chmod_000_manifest_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "m.csv"
    path.write_text("id,image\na,a.png\n")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads a chmod-000 file anyway: fail the open as for a user

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(os, "open", denied)
    with pytest.raises(TableError, match="cannot read: Permission denied"):
        rows_of(path)


def test_symlink_loop_fifo_and_folder_are_refused(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(tmp_path / "loop.csv")
    with pytest.raises(TableError, match="symlink loop"):
        rows_of(loop)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(TableError, match="not a regular file"):
        rows_of(fifo)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(TableError, match="a folder"):
        rows_of(tmp_path / "dir.csv")


# The property: a random CSV (random quotes, separators, CR/LF/CRLF inside fields and between
# rows, and stray quotes or separators pasted in) is either refused with a one-line TableError,
# or read with exactly one row (record or BadRow) per physical data row, counted by the small
# RFC 4180 scanner below, which shares no code with the reader. Without strays, the rows are
# also exactly the rows written.
FIELD = st.text(alphabet="ab \"',;\t\r\n", max_size=8)


def quoted(field: str, always: bool) -> str:
    """RFC 4180 quoting (csv.writer leaves a lone CR unquoted when the terminator is LF)."""
    if always or any(c in field for c in '",\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def physical_rows(text: str) -> int:
    """Data rows of an RFC 4180 text: a quote opens a field only at its start, a line break ends
    a row only outside quotes, a character after a closing quote other than a separator or a line
    break spoils the rest of that line (which is still one row), blank lines are not rows."""
    rows, state, content = 0, "start", False
    i = 0
    while i < len(text):
        c = text[i]
        if state in ("start", "field", "spoiled") and c in "\r\n":
            i += 2 if text.startswith("\r\n", i) else 1
            rows, state, content = rows + content, "start", False
            continue
        content = True
        if state == "start":
            state = "quoted" if c == '"' else "start" if c == "," else "field"
        elif state == "field":
            state = "start" if c == "," else "field"
        elif state == "quoted":
            state = "closing" if c == '"' else "quoted"
        elif state == "closing":
            state = {'"': "quoted", ",": "start"}.get(c, "spoiled")
            if c in "\r\n":
                state = "start"
                continue
        i += 1
    return rows + content


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=8),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    always=st.booleans(),
    strays=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(['"', '""', ","])), max_size=2
    ),
)
def test_random_csv_counts_every_row_or_refuses(tmp_path, rows, terminator, always, strays):
    lines = [",".join(quoted(f, always) for f in row) for row in rows]
    for position, stray in strays:  # pasted into a row, never over a line break
        index = position % len(lines)
        at = position % (len(lines[index]) + 1)
        lines[index] = lines[index][:at] + stray + lines[index][at:]
    path = tmp_path / "p.csv"
    path.write_bytes(terminator.join(["id,image,report", *lines, ""]).encode())
    try:
        found = rows_of(path)
    except TableError as exc:
        assert str(exc).startswith(f"{path}: line ") and "\n" not in str(exc)
        return
    assert len(found) == physical_rows(path.read_bytes().decode()) - 1  # less the header
    if not strays:
        assert len(found) == len(rows)
        assert [list(r.values()) for _, r in found] == [[v or None for v in r] for r in rows]
