"""Read a table file (CSV, TSV, JSONL, Parquet) from any fsspec URL as numbered records.

One reader for every table labelmill takes in: build manifests, report inputs, gold labels.
File-level problems (no such file, unknown format, wrong encoding, a missing required column)
raise `TableError` naming the file and what is wrong; a bad row (a ragged CSV line, a line that
is not a JSON object) is yielded as its problem, so each caller decides whether it rejects the
row or stops. Rows are numbered from 1, header not counted; empty CSV cells read as None.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import fsspec

from labelmill.manifests.columns import ColumnMap, detect_separator, known_columns

FORMATS = {
    "csv": "csv",
    "tsv": "tsv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "parquet": "parquet",
    "pq": "parquet",
}


def is_missing(value: Any) -> bool:
    """An absent cell: None (an empty CSV cell, a JSON null) or NaN (pandas' missing value)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


class TableError(ValueError):
    """A table that cannot be read as a whole; the message names the file and the problem."""


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
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """(row number, record or BadRow) for every row of the table at `path`, in file order.

    `errors="replace"` decodes bad bytes as U+FFFD instead of raising (for free text).
    `columns` maps known column names to their headers (matched case-insensitively, see
    columns.py; required ones always match so); `sep` is a CSV's separator (None: detected)."""
    names = ColumnMap(known_columns(required, None) | dict(columns or {}))
    kind = table_format(path)
    fs, fs_path = fsspec.core.url_to_fs(path)
    if not fs.isfile(fs_path):
        raise TableError(f"{path}: no such file")
    if kind == "parquet":
        yield from _parquet(fs, fs_path, path, required, names)
        return
    with fs.open(fs_path, "rb") as raw:
        lines = _decoded_lines(raw, path, encoding, errors)
        if kind == "jsonl":
            yield from _jsonl(lines, path, required, names)
            return
        first = next(lines, "")
        delimiter = sep or ("\t" if kind == "tsv" else detect_separator(first))
        yield from _csv(itertools.chain([first], lines), path, required, delimiter, names)


def _decoded_lines(raw: IO[bytes], path: str, encoding: str, errors: str) -> Iterator[str]:
    """Decode line by line, streaming, so that a bad byte is reported with its line."""
    utf8 = encoding.lower().replace("_", "-") == "utf-8"
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8-sig" if utf8 and number == 1 else encoding, errors)
        except UnicodeDecodeError as exc:
            raise TableError(
                f"{path}: line {number} is not {encoding} text (byte {line[exc.start]:#04x}"
                f" at offset {exc.start}); re-save it as UTF-8 or give its encoding"
            ) from exc


def check_columns(columns: Sequence[str], required: Sequence[str], path: str) -> None:
    """Raise TableError naming the first required column that is missing."""
    for column in required:
        if column not in columns:
            found = ", ".join(columns)
            raise TableError(f"{path}: required column {column!r} is missing (columns: {found})")


def _csv(
    text: Iterator[str], path: str, required: Sequence[str], delimiter: str, names: ColumnMap
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise TableError(f"{path}: empty table (no header row)")
    header = names.rename([h.strip() for h in header])
    check_columns(header, required, path)
    for number, values in enumerate(reader, start=1):
        if not values:
            continue
        if len(values) != len(header):
            yield number, BadRow(f"{len(values)} fields where the header has {len(header)}")
            continue
        yield number, {k: (v if v != "" else None) for k, v in zip(header, values, strict=True)}


def _jsonl(
    text: Iterator[str], path: str, required: Sequence[str], names: ColumnMap
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    checked = False
    for number, line in enumerate((ln for ln in text if ln.strip()), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, BadRow(f"not valid JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield number, BadRow("not a JSON object")
            continue
        record = names.record(record)
        if not checked:
            check_columns(list(record), required, path)
            checked = True
        yield number, record


def _parquet(
    fs: Any, fs_path: str, path: str, required: Sequence[str], names: ColumnMap
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with fs.open(fs_path, "rb") as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError(f"{path}: not a readable Parquet file: {exc}") from exc
        header = names.rename(parquet.schema_arrow.names)
        check_columns(header, required, path)
        number = 0
        for batch in parquet.iter_batches(batch_size=8192):
            for record in batch.rename_columns(header).to_pylist():
                number += 1
                yield number, record
