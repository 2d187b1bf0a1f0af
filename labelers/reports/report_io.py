"""Reading reports (CSV, JSONL, Parquet, a folder of .txt); writing mined labels (JSONL, Parquet).

Input problems (a missing column, a bad JSON line, an unknown format) raise `ReportInputError`
with a message that names the file and the problem; text that is not valid UTF-8 is decoded
with replacement characters rather than rejected, so one bad byte never loses a report.
Outputs are written to a temporary file and moved into place, so a crash leaves no half file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REQUIRED_COLUMNS = ("id", "text")
Report = tuple[str, str | None]


class ReportInputError(ValueError):
    """An input that cannot be read as reports; the message says which file and why."""


def read_reports(path: str | Path) -> list[Report]:
    """Read (id, text) pairs in input order from a table file or a folder of .txt files."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
        return [(p.stem, _decode(p.read_bytes())) for p in files]
    if not path.is_file():
        raise ReportInputError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    raise ReportInputError(f"{path}: unknown input format {suffix!r}; use .csv, .jsonl, .parquet")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _check_columns(path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ReportInputError(
            f"{path}: missing column(s) {missing}; found {list(columns)}; "
            f"reports need columns {list(REQUIRED_COLUMNS)}"
        )


def _text(value: Any) -> str | None:
    """Report text as str; a missing value (None, NaN) stays None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, str) else str(value)


def _read_csv(path: Path) -> list[Report]:
    import pandas as pd

    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise ReportInputError(f"{path}: not a readable CSV file: {exc}") from exc
    _check_columns(path, list(frame.columns))
    return [(str(i), _text(t)) for i, t in zip(frame["id"], frame["text"], strict=True)]


def _read_jsonl(path: Path) -> list[Report]:
    reports: list[Report] = []
    for number, line in enumerate(_decode(path.read_bytes()).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportInputError(f"{path}:{number}: not valid JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise ReportInputError(f"{path}:{number}: each line must be a JSON object")
        _check_columns(Path(f"{path}:{number}"), list(row))
        reports.append((str(row["id"]), _text(row["text"])))
    return reports


def _read_parquet(path: Path) -> list[Report]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReportInputError(f"{path}: not a readable Parquet file: {exc}") from exc
    _check_columns(path, schema.names)
    table = pq.read_table(path, columns=list(REQUIRED_COLUMNS))
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    return [(str(i), _text(t)) for i, t in zip(ids, texts, strict=True)]


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
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        if suffix == ".jsonl":
            with open(temp, "w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            _write_parquet(temp, records, labels)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_parquet(path: str, records: list[dict[str, Any]], labels: Sequence[str]) -> None:
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
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
