"""Reading reports (CSV, JSONL, Parquet, a folder of .txt); writing mined labels (JSONL, Parquet).

Input problems (a missing column, a bad JSON line, an unknown format) raise `ReportInputError`
with a message that names the file and the problem; text that is not valid UTF-8 is decoded
with replacement characters rather than rejected, so one bad byte never loses a report.
Outputs are written to a temporary file and moved into place, so a crash leaves no half file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from labelmill.fileio import atomic_open
from labelmill.manifests.tables import BadRow, TableError, is_missing, iter_table

REQUIRED_COLUMNS = ("id", "text")
Report = tuple[str, str | None]


class ReportInputError(ValueError):
    """An input that cannot be read as reports; the message says which file and why."""


def read_reports(path: str | Path) -> list[Report]:
    """Read (id, text) pairs in input order from a table file or a folder of .txt files."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
        return [(p.stem, p.read_bytes().decode("utf-8", errors="replace")) for p in files]
    reports: list[Report] = []
    try:
        for number, row in iter_table(str(path), REQUIRED_COLUMNS, errors="replace"):
            if isinstance(row, BadRow):
                raise ReportInputError(f"{path}:{number}: {row}")
            reports.append((str(row["id"]), _text(row["text"])))
    except TableError as exc:
        raise ReportInputError(str(exc)) from exc
    return reports


def _text(value: Any) -> str | None:
    """Report text as str; a missing value (None, NaN) stays None."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)


def check_output(path: str | Path) -> Path:
    """Fail before any work if the output format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in (".jsonl", ".parquet"):
        raise ReportInputError(
            f"{path}: unknown output format {path.suffix!r}; use .jsonl or .parquet"
        )
    return path


def write_records(path: str | Path, records: list[dict[str, Any]], labels: Sequence[str]) -> None:
    """Write one record per report, atomically, as JSONL or Parquet (chosen by the suffix)."""
    path = check_output(path)
    with atomic_open(str(path)) as out:
        if path.suffix.lower() == ".jsonl":
            for record in records:
                out.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        else:
            _write_parquet(out, records, labels)


def _write_parquet(out: IO[bytes], records: list[dict[str, Any]], labels: Sequence[str]) -> None:
    """Fixed schema: a nullable int8 per label in ontology order, evidence as a list of structs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

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
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("labels", pa.struct([(name, pa.int8()) for name in labels])),
            ("evidence", pa.list_(evidence)),
        ]
    )
    pq.write_table(pa.Table.from_pylist(records, schema=schema), out)
