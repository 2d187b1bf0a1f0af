"""Split a build's input into parts that workers read in parallel, each row with a stable position.

An input is one manifest file, a glob or a folder of part files (one format: CSV, TSV, JSONL or
Parquet; mixed is an error), or a folder of `images/` and `reports/`. The launcher only lists
the manifest files (and of a folder input, nothing); workers cut them into *units* (a whole
line-format file, one row group of a Parquet file, read from its footer, or one part of the
image folder: `manifests.folder`) and read each unit with the same per-row parsing as
`manifests.read`, so a fix there applies here. A row's position is (unit key, row within unit);
unit keys sort in input order, so global row numbers follow from the per-unit row counts alone.

Line formats are read one file per worker: a CSV field may hold a quoted newline, so a byte range
cannot be cut safely without reading from the start. A single huge CSV is therefore read by one
worker; split it into part files to read it in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import fsspec

from labelmill.manifests.columns import ColumnMap, known_columns
from labelmill.manifests.folder import IMAGES, folder_root, image_rows, top_parts
from labelmill.manifests.read import (
    KNOWN_COLUMNS,
    REQUIRED_COLUMNS,
    ManifestError,
    _parent,
    _to_row,
    iter_inputs,
)
from labelmill.manifests.tables import FORMATS, check_columns, table_format
from labelmill.schemas.records import InputRow, Reject

FOLDER = "folder"  # the images/ + reports/ input mode
FOLDER_PART = "folder part"  # a subfolder of images/, or a run of its top-level files
ROWS_PER_BATCH = 10_000  # Parquet rows decoded at a time: a big row group is not held whole


@dataclass(frozen=True)
class Unit:
    """One piece of input read by one worker. `key` orders units in input order."""

    key: tuple[int, int]
    url: str
    kind: str
    row_group: int = -1
    part: str | tuple[str, ...] = ""  # of a folder part: `manifests.folder.top_parts`


def absolute(path: str) -> str:
    """A local path made absolute (workers may run elsewhere); URLs unchanged."""
    return path if "://" in path else os.path.abspath(path)


def _protocol(path: str) -> str:
    return path.split("://", 1)[0] + "://" if "://" in path else ""


def list_inputs(path: str) -> list[Unit]:
    """The input files in input order (sorted names), as units of whole files: one listing.

    Raises ManifestError for no files, mixed formats, or a folder that is neither mode."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    protocol = _protocol(path)
    if any(c in fs_path for c in "*?["):
        found = [p for p in fs.glob(fs_path) if fs.isfile(p)]
        if not found:
            raise ManifestError(f"{path}: no file matches")
    elif fs.isdir(fs_path):
        if fs.isdir(f"{fs_path.rstrip('/')}/images"):
            return [Unit((0, 0), path, FOLDER)]
        root = fs_path.rstrip("/")
        found = [p for p in fs.find(fs_path) if not _hidden(p[len(root) + 1 :])]
        found = [p for p in found if p.lower().rsplit(".", 1)[-1] in FORMATS]
        if not found:
            raise ManifestError(
                f"{path}: a folder input needs an images/ subfolder or table part files"
                " (.csv, .tsv, .jsonl, .parquet)"
            )
    else:
        if not fs.isfile(fs_path):
            raise ManifestError(f"{path}: no such file")
        return [Unit((0, 0), path, table_format(path))]
    urls = sorted(protocol + p if protocol and "://" not in p else p for p in found)
    kinds = {table_format(u) for u in urls}
    if len(kinds) > 1:
        raise ManifestError(f"{path}: part files of mixed formats ({', '.join(sorted(kinds))})")
    kind = kinds.pop()
    return [Unit((i, 0), u, kind) for i, u in enumerate(urls)]


def _hidden(relative: str) -> bool:
    """Names a part-file reader skips, as Spark and pyarrow do: `_SUCCESS`, `.crc`, `_temp/`."""
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def split_unit(unit: Unit) -> list[Unit]:
    """A Parquet file as one unit per row group (read from its footer), an image folder as one
    unit per part of `images/` (one listing of its top level); others stay whole."""
    if unit.kind == FOLDER:
        root = folder_root(unit.url)
        return [Unit((0, n), root, FOLDER_PART, part=p) for n, p in top_parts(root, IMAGES)]
    if unit.kind != "parquet":
        return [unit]
    import pyarrow as pa
    import pyarrow.parquet as pq

    with fsspec.open(unit.url, "rb") as fh:
        try:
            meta = pq.ParquetFile(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ManifestError(f"{unit.url}: not a readable Parquet file: {exc}") from exc
        groups = meta.metadata.num_row_groups
    return [Unit((unit.key[0], g), unit.url, unit.kind, g) for g in range(max(groups, 1))]


def read_unit(
    unit: Unit,
    encoding: str = "utf-8",
    columns: Mapping[str, str] | None = None,
    sep: str | None = None,
) -> Iterator[InputRow | Reject]:
    """The rows and row-level rejects of one unit, numbered from 1 within the unit; header
    names are matched as `manifests.read` matches them (`columns` renames known ones)."""
    if unit.kind == FOLDER_PART:
        yield from image_rows(unit.url, unit.part)
        return
    if unit.row_group < 0:
        yield from iter_inputs(unit.url, encoding, columns, sep)
        return
    import pyarrow.parquet as pq

    required = tuple(dict.fromkeys((*REQUIRED_COLUMNS, *(columns or {}))))
    names = ColumnMap(known_columns(required, None) | known_columns(KNOWN_COLUMNS, columns))
    with fsspec.open(unit.url, "rb") as fh:
        parquet = pq.ParquetFile(fh)
        header = names.rename(parquet.schema_arrow.names)
        check_columns(header, required, unit.url)
        if parquet.metadata.num_row_groups == 0:
            return
        base, number = _parent(unit.url), 0
        batches = parquet.iter_batches(ROWS_PER_BATCH, row_groups=[unit.row_group])
        for batch in batches:
            for record in batch.rename_columns(header).to_pylist():
                number += 1
                yield _to_row(number, record, base)


def offsets(counts: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
    """Rows before each unit, in unit order: a unit's row n is global row offset + n.

    `counts` holds one entry per unit (rows in it), so this is small: units, not rows."""
    out, total = {}, 0
    for key in sorted(counts):
        out[key] = total
        total += counts[key]
    return out
