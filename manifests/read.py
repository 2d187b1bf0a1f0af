"""Read build inputs: a CSV, JSONL or Parquet manifest, or a folder of images and reports.

Columns: `id` and `image` are required; `report` (inline text) or `report_path`, and `labels` (a
list, or one `|`-separated string) are optional; every other column is kept as metadata.
Relative paths resolve against the manifest's folder, and any fsspec URL (`gs://`, `s3://`)
works where its file system is installed. A file-level problem (missing column, wrong
encoding) raises `ManifestError` naming the file and column; a bad row becomes a `Reject`
naming its row number (1-based, header not counted) so the rest of the build goes on.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import fsspec

from labelmill.manifests.columns import known_columns
from labelmill.manifests.folder import IMAGES, folder_root, has_tree, read_folder
from labelmill.manifests.tables import BadRow, TableError, is_missing, iter_table, table_format
from labelmill.schemas.records import InputRow, Reason, Reject, Stage

REQUIRED_COLUMNS = ("id", "image")
KNOWN_COLUMNS = {"id", "image", "report", "report_path", "labels"}
TEXT_COLUMNS = ("id", "image", "report", "report_path")


# The manifest as a whole cannot be read; the message names the file and what is wrong.
ManifestError = TableError


def iter_inputs(
    path: str,
    encoding: str = "utf-8",
    columns: Mapping[str, str] | None = None,
    sep: str | None = None,
) -> Iterator[InputRow | Reject]:
    """Stream a manifest file or an input folder as rows and row-level rejects, in input order.

    `columns` renames known columns (`{"id": "Study ID"}`): a renamed column is required."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    if fs.isdir(fs_path):
        if not has_tree(folder_root(path), IMAGES):
            raise ManifestError(f"{path}: a folder input needs an images/ subfolder")
        yield from read_folder(path)
        return
    base = _parent(path)
    text_table = table_format(path) in ("csv", "tsv")
    required = tuple(dict.fromkeys((*REQUIRED_COLUMNS, *(columns or {}))))
    names = known_columns(KNOWN_COLUMNS, columns)
    rows = iter_table(path, required, encoding, columns=names, sep=sep, text=TEXT_COLUMNS)
    for number, record in rows:
        if not isinstance(record, BadRow) and (problem := _path_problem(record)):
            record = BadRow(problem)
        if isinstance(record, BadRow):
            yield Reject(number, None, Stage.MANIFEST, Reason.BAD_ROW, record)
        else:
            yield _to_row(number, record, base, typed=not text_table)


def _path_problem(record: dict[str, Any]) -> str:
    """A NUL byte cannot be in any file name, and would make `open()` raise, not reject."""
    for column in ("id", "image", "report_path"):
        value = record.get(column)
        if isinstance(value, str) and "\x00" in value:
            return f"column {column!r} holds a NUL byte"
    return ""


def read_inputs(
    path: str,
    encoding: str = "utf-8",
    columns: Mapping[str, str] | None = None,
    sep: str | None = None,
) -> tuple[list[InputRow], list[Reject]]:
    """All rows and row-level rejects of a (small) input, as two lists."""
    rows: list[InputRow] = []
    rejects: list[Reject] = []
    for item in iter_inputs(path, encoding, columns, sep):
        (rejects if isinstance(item, Reject) else rows).append(item)
    return rows, rejects


def _parent(path: str) -> str:
    """The folder of a manifest; local ones made absolute so that workers elsewhere agree."""
    if "://" in path:
        return posixpath.dirname(path.rstrip("/"))
    return os.path.dirname(os.path.abspath(path))


def _clean(value: Any) -> Any:
    """Make a metadata value JSON-safe: NaN and infinities become None, dates ISO strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def parse_labels(value: Any) -> tuple[str, ...]:
    """Labels as given by a source: a list, a JSON list in a string, or `a|b|c`."""
    if is_missing(value):
        return ()
    if isinstance(value, list | tuple):
        items = [str(v) for v in value if v is not None]
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = [str(v) for v in json.loads(text)]
            except json.JSONDecodeError:
                items = text.split("|")
        else:
            items = text.split("|")
    return tuple(s.strip() for s in items if s.strip())


def _text(value: Any) -> str:
    if is_missing(value):
        return ""
    return str(value).strip()


INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,17})")
DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?")


def infer(value: Any) -> Any:
    """A CSV cell as the type a reader would infer: `40` an int, `1.5` a float; everything
    else (`007`, `1e400`, `nan`, dates) stays the string it was."""
    if not isinstance(value, str):
        return value
    if INTEGER.fullmatch(value):
        return int(value)
    if DECIMAL.fullmatch(value) and math.isfinite(float(value)):
        return float(value)
    return value


def _to_row(number: int, record: dict[str, Any], base: str, typed: bool = True) -> InputRow:
    image = _text(record.get("image"))
    report_path = _text(record.get("report_path"))
    report = record.get("report")
    return InputRow(
        row=number,
        id=_text(record.get("id")),
        image=image,
        report=None if is_missing(report) else str(report),
        report_path=report_path or None,
        labels=parse_labels(record.get("labels")),
        meta={
            str(k): _clean(v if typed else infer(v))
            for k, v in record.items()
            if k not in KNOWN_COLUMNS
        },
        base=base,
    )
