"""Reading reports and writing mined labels, one report at a time.

Inputs: a CSV, JSONL or Parquet table with a `text` (or `Reports`) column and an optional `id`
(rows are numbered from 1 without one), the CheXpert labeler's input (one column of report text,
no header), or a folder of .txt files (id = file stem). Outputs: JSONL, Parquet (one int8 column
per label) or the CheXpert labeler's CSV (`Reports`, then one column per label, 1/0/-1/blank).
Both sides stream, so memory stays flat however many reports there are. Input problems raise
`ReportInputError` naming the file; text that is not UTF-8 is decoded with replacement
characters, so one bad byte never loses a report. Outputs are written to a temporary file and
moved into place, so a crash leaves no half file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from labelmill.fileio import atomic_open
from labelmill.manifests.tables import BadRow, TableError, is_missing, iter_table, table_format

TEXT_COLUMNS = ("text", "reports", "report")  # matched case-insensitively, first found wins
CHEXPERT_TEXT = "Reports"
OUTPUT_FORMATS = (".jsonl", ".parquet", ".csv")
PARQUET_BATCH = 4096
Report = tuple[str, str | None]


class ReportInputError(ValueError):
    """An input that cannot be read as reports; the message says which file and why."""


def read_reports(path: str | Path) -> list[Report]:
    """Every (id, text) pair in input order (small inputs; `iter_reports` streams)."""
    return list(iter_reports(path))


def iter_reports(path: str | Path) -> Iterator[Report]:
    """Stream (id, text) pairs in input order from a table, a headerless CSV or a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
        for p in files:
            yield p.stem, p.read_bytes().decode("utf-8", errors="replace")
        return
    try:
        if table_format(str(path)) in ("csv", "tsv") and _headerless(path):
            yield from _headerless_rows(path)
            return
        for number, row in iter_table(str(path), errors="replace"):
            if isinstance(row, BadRow):
                raise ReportInputError(f"{path}:{number}: {row}")
            yield _report(path, number, row)
    except TableError as exc:
        raise ReportInputError(str(exc)) from exc


def _first_row(path: Path) -> list[str]:
    if not path.is_file():
        raise ReportInputError(f"{path}: no such file")
    with path.open("rb") as fh:
        first = fh.readline(1 << 20).decode("utf-8-sig", errors="replace")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    return next(csv.reader([first], delimiter=delimiter), [])


def _headerless(path: Path) -> bool:
    """The CheXpert labeler's input: one column, and its first cell is not a column name."""
    first = _first_row(path)
    if not first:
        raise ReportInputError(f"{path}: empty table (no header row and no report)")
    names = {cell.strip().casefold() for cell in first}
    if names & set(TEXT_COLUMNS):
        return False
    if len(first) > 1:
        found = ", ".join(first)
        raise ReportInputError(
            f"{path}: required column 'text' is missing (or 'Reports', or one column of report"
            f" text without a header); columns: {found}"
        )
    return True


def _headerless_rows(path: Path) -> Iterator[Report]:
    """One report per CSV record (quoted newlines kept, a stray separator kept as text), ids
    are row numbers from 1."""
    with path.open("rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        number = 0
        for values in csv.reader(text, delimiter=delimiter):
            if not values:  # a blank line, skipped as the CheXpert labeler's reader does
                continue
            number += 1
            yield str(number), delimiter.join(values)


def _report(path: Path, number: int, row: dict[str, Any]) -> Report:
    """(id, text) of one table row: `id` if the table has one, else the row number."""
    lower = {str(k).strip().casefold(): k for k in row}
    column = next((lower[name] for name in TEXT_COLUMNS if name in lower), None)
    if column is None:
        found = ", ".join(map(str, row))
        raise ReportInputError(
            f"{path}: required column 'text' is missing (or 'Reports'); columns: {found}"
        )
    report_id = row[lower["id"]] if "id" in lower else None
    report_id = str(number) if is_missing(report_id) else str(report_id)
    return report_id, _text(row[column])


def _text(value: Any) -> str | None:
    """Report text as str; a missing value (None, NaN) stays None."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)


def check_output(path: str | Path) -> Path:
    """Fail before any work if the output format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise ReportInputError(
            f"{path}: unknown output format {path.suffix!r}; use .jsonl, .parquet or .csv"
        )
    return path


class RecordWriter:
    """Writes records one at a time, atomically, in the format the suffix names.

    Records are `{"id", "text", "labels": {label: 1|0|-1|None}, "evidence": [...]}`; JSONL and
    Parquet keep id, labels and evidence, the CSV keeps the CheXpert labeler's columns."""

    def __init__(self, path: str | Path, labels: Sequence[str]) -> None:
        self.path, self.labels = check_output(path), list(labels)
        self.kind = self.path.suffix.lower()
        self._context = atomic_open(str(self.path))
        self._out: IO[bytes] = self._context.__enter__()
        self._pending: list[dict[str, Any]] = []
        self._parquet: Any = None
        self._csv: Any = None
        self.count = 0
        if self.kind == ".csv":
            self._text = io.TextIOWrapper(self._out, encoding="utf-8", newline="")
            self._csv = csv.writer(self._text)
            self._csv.writerow([CHEXPERT_TEXT, *self.labels])

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        if self.kind == ".jsonl":
            kept = {k: record[k] for k in ("id", "labels", "evidence")}
            self._out.write((json.dumps(kept, ensure_ascii=False) + "\n").encode("utf-8"))
        elif self.kind == ".csv":
            labels = record["labels"]
            values = ["" if labels.get(n) is None else labels[n] for n in self.labels]
            self._csv.writerow([record.get("text") or "", *values])
        else:
            self._pending.append(record)
            if len(self._pending) >= PARQUET_BATCH:
                self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = parquet_schema(self.labels)
        rows = [{k: r[k] for k in ("id", "labels", "evidence")} for r in self._pending]
        table = pa.Table.from_pylist(rows, schema=schema)  # a bad record fails before writing
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._out, schema)
        self._parquet.write_table(table)
        self._pending = []

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        """Finish the file and move it into place; on any error, remove it."""
        if exc[0] is None:
            try:
                self._finish()
            except BaseException as err:
                self._context.__exit__(type(err), err, err.__traceback__)
                raise
        self._context.__exit__(*exc)

    def _finish(self) -> None:
        if self.kind == ".parquet":
            if self._pending or self._parquet is None:
                self._flush()
            self._parquet.close()
        elif self._csv is not None:
            self._text.flush()
            self._text.detach()


def parquet_schema(labels: Sequence[str]) -> Any:
    """Fixed schema: a nullable int8 per label in ontology order, evidence as a list of structs."""
    import pyarrow as pa

    evidence = pa.struct(
        [
            ("label", pa.string()),
            ("status", pa.int8()),
            ("sentence", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("section", pa.string()),
            ("trigger", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("labels", pa.struct([(name, pa.int8()) for name in labels])),
            ("evidence", pa.list_(evidence)),
        ]
    )


def write_records(path: str | Path, records: list[dict[str, Any]], labels: Sequence[str]) -> None:
    """Write one record per report, atomically (a list; `RecordWriter` streams)."""
    with RecordWriter(path, labels) as writer:
        for record in records:
            writer.write(record)
