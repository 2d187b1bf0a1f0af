"""Read a table file (CSV, TSV, JSONL, Parquet) from any fsspec URL as numbered records.

One reader for every table labelmill takes in: build manifests, report inputs, gold labels.
File-level problems (no such file, unknown format, wrong encoding, a missing or repeated column,
a quote that swallows the rest of the file) raise `TableError` naming the file, the line and what
is wrong; a bad row (a ragged CSV line, a line that is not a JSON object) is yielded as its
problem, so each caller decides whether it rejects the row or stops. Rows are numbered from 1,
header and blank lines not counted, so every non-blank data line is one row and
`written + rejected` always equals the rows the file holds. Empty CSV cells read as None.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import fsspec

from labelmill.manifests.columns import ColumnMap, detect_separator, known_columns
from labelmill.manifests.lines import MAX_LINE_BYTES, LineError, decoded_lines
from labelmill.manifests.table_checks import TableError as TableError
from labelmill.manifests.table_checks import (
    check_columns,
    check_readable,
    json_records,
    row_problem,
)

FORMATS = {
    "csv": "csv",
    "tsv": "tsv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "json",
    "parquet": "parquet",
    "pq": "parquet",
}
_FILE_NAME = re.compile(r"[^\s\"]+\.[A-Za-z0-9]{1,5}")
Rows = Iterator[tuple[int, "dict[str, Any] | BadRow"]]


def is_missing(value: Any) -> bool:
    """An absent cell: None (an empty CSV cell, a JSON null) or NaN (pandas' missing value)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


class BadRow(str):
    """What is wrong with one row (a str, so that callers can use it as the message)."""


def table_format(path: str) -> str:
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix not in FORMATS:
        raise TableError(f"{path}: unknown table format; use .csv, .tsv, .jsonl or .parquet")
    return FORMATS[suffix]


def iter_table(
    path: str,
    required: Sequence[str] = (),
    encoding: str = "utf-8",
    errors: str = "strict",
    columns: Mapping[str, str] | None = None,
    sep: str | None = None,
    text: Sequence[str] = (),
) -> Rows:
    """(row number, record or BadRow) for every row of the table at `path`, in file order.

    `errors="replace"` decodes bad bytes as U+FFFD instead of raising (for free text).
    `columns` maps known column names to their headers (matched case-insensitively, see
    columns.py; required ones always match so); `sep` is a CSV's separator (None: detected);
    `text` names columns that must hold text where present (a binary Parquet column is refused).
    """
    names = ColumnMap(known_columns(required, None) | dict(columns or {}))
    kind = table_format(path)
    fs, fs_path = fsspec.core.url_to_fs(path)
    check_readable(fs, fs_path, path)
    if kind == "parquet":
        yield from _parquet(fs, fs_path, path, required, (*required, *text), names)
        return
    with fs.open(fs_path, "rb") as raw:
        try:
            if kind == "json" and _starts_array(raw):
                yield from _checked(json_records(raw, path), required, names)
                return
            lines = decoded_lines(raw, encoding, errors)
            if kind in ("jsonl", "json"):
                yield from _checked(_jsonl(lines), required, names)
                return
            first = next(lines, "")
            delimiter = sep or ("\t" if kind == "tsv" else detect_separator(first))
            lines = itertools.chain([first], lines)
            yield from _csv(lines, path, required, delimiter, names)
        except LineError as exc:
            raise TableError(f"{path}: {exc}") from exc


def _starts_array(raw: Any) -> bool:
    head = raw.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    raw.seek(0)
    return head.startswith(b"[")


def _checked(
    records: Iterator[tuple[int, str, Any]], required: Sequence[str], names: ColumnMap
) -> Rows:
    """Number the parsed JSON values as rows; each that is not a usable object is a BadRow."""
    for number, (_, where, record) in enumerate(records, start=1):
        if isinstance(record, dict) and not isinstance(record, BadRow):
            record = names.record(record)
        if isinstance(record, BadRow):
            yield number, BadRow(f"{record} ({where})")
        elif not isinstance(record, dict):
            yield number, BadRow(f"not a JSON object ({where})")
        elif missing := [c for c in required if c not in record]:
            keys = ", ".join(map(str, record)) or "none"
            absent = ", ".join(map(repr, missing))
            yield number, BadRow(f"required column {absent} is missing, keys: {keys} ({where})")
        elif problem := row_problem(record):
            yield number, BadRow(f"{problem} ({where})")
        else:
            yield number, record


def _jsonl(lines: Iterator[str]) -> Iterator[tuple[int, str, Any]]:
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            record = BadRow(f"not valid JSON: {exc}")
        except RecursionError:
            record = BadRow("JSON nested too deeply to read")
        yield line_number, f"line {line_number}", record


def _csv(
    lines: Iterator[str], path: str, required: Sequence[str], delimiter: str, names: ColumnMap
) -> Rows:
    """Rows of a CSV/TSV. The parser is strict, and a record may span lines only through a
    properly quoted field with the right field count whose later lines do not look like rows of
    their own: otherwise a stray or unclosed quote swallowed rows, which cannot be counted, so
    the file is refused naming the line where the record (and its quote) starts."""
    csv.field_size_limit(MAX_LINE_BYTES)  # process-wide; the default 128 KiB is a report's size
    consumed: list[str] = []
    reader = csv.reader(_recording(lines, consumed), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise TableError(f"{path}: line {reader.line_num}: bad header: {exc}") from exc
    if not header:
        raise TableError(f"{path}: empty table (no header row)")
    header = names.rename([h.strip() for h in header])
    check_columns(header, required, path)
    number, end = 0, reader.line_num
    while True:
        start, problem = end + 1, ""
        consumed.clear()
        try:
            values = next(reader, None)
        except csv.Error as exc:
            values, problem = [], str(exc)
        if values is None:
            return
        end = reader.line_num
        if not values and not problem:
            continue  # a blank line is not a row
        if not problem and len(values) != len(header):
            problem = f"{len(values)} fields where the header has {len(header)}"
        if end > start and not problem:
            problem = _swallowed(consumed[1:], header, delimiter)
        if problem and end > start:
            raise TableError(
                f"{path}: line {start}: a quoted field opens here and runs to line {end}"
                f" ({problem}); a stray or unclosed quote swallows the rows after it"
            )
        number += 1
        if problem:
            if problem == "unexpected end of data":
                problem = "a quoted field opens here and is never closed"
            yield number, BadRow(f"{problem} (line {start})")
            continue
        yield number, {k: (v if v != "" else None) for k, v in zip(header, values, strict=True)}


def _recording(lines: Iterator[str], consumed: list[str]) -> Iterator[str]:
    for line in lines:
        consumed.append(line)
        yield line


def _fields(line: str, delimiter: str) -> list[str]:
    """A line's fields read on their own (leniently: it may hold half of a quoted field)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _swallowed(later: list[str], header: list[str], delimiter: str) -> str:
    """What makes a line inside a multi-line quoted field look like a row of its own: as many
    fields as the header, a first field (the id) without whitespace and, in a manifest, a file
    name or nothing where the image goes ('' when no line does). A report line rarely has all
    three, so a legitimate multi-line report still reads. A one-column table has no
    separator to count, so any line would pass for a row: its quoted fields are trusted."""
    if len(header) < 2:
        return ""
    image = header.index("image") if "image" in header else None
    for offset, line in enumerate(later, start=1):
        pieces = _fields(line.rstrip("\r\n"), delimiter)
        if len(pieces) != len(header) or not pieces[0] or any(c.isspace() for c in pieces[0]):
            continue
        path = pieces[image].strip('"') if image is not None else ""
        if not path or _FILE_NAME.fullmatch(path):
            return f"its line {offset + 1} looks like a row of its own"
    return ""


def _parquet(
    fs: Any,
    fs_path: str,
    path: str,
    required: Sequence[str],
    text: Sequence[str],
    names: ColumnMap,
) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with fs.open(fs_path, "rb") as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError(f"{path}: not a readable Parquet file: {exc}") from exc
        schema = parquet.schema_arrow
        header = names.rename(schema.names)
        check_columns(header, required, path)
        for column in dict.fromkeys(text):
            kind = schema.field(header.index(column)).type if column in header else None
            binary = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)
            if kind is not None and any(test(kind) for test in binary):
                raise TableError(
                    f"{path}: column {column!r} holds {kind} values, not text;"
                    " store it as a string (UTF-8) column"
                )
        number = 0
        for batch in parquet.iter_batches(batch_size=8192):
            for record in batch.rename_columns(header).to_pylist():
                number += 1
                problem = row_problem(record)
                yield number, BadRow(problem) if problem else record
