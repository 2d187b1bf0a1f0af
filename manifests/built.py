"""Read what a build wrote: its manifest and rejects, stored as one Parquet part per shard.

One reader for every command that looks at a finished build (audit, verify, inspect,
export-relabel), so the layout is known in one place. `OUT/manifest/` and `OUT/rejects/` are
also plain Parquet datasets for pyarrow, pandas, duckdb and `datasets`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from labelmill.fileio import join
from labelmill.manifests.write import MANIFEST_SCHEMA, REJECTS_SCHEMA

SCHEMAS = {"manifest": MANIFEST_SCHEMA, "rejects": REJECTS_SCHEMA}


class BuildLayoutError(ValueError):
    """The folder is not a build this labelmill can read (or not a build at all)."""


def part_urls(build_dir: str, kind: str) -> list[str]:
    """The part files of `kind` ("manifest" or "rejects") in shard order (one listing)."""
    folder = join(build_dir, kind)
    fs, path = fsspec.core.url_to_fs(folder)
    if not fs.isdir(path):
        if fs.exists(f"{path}.parquet"):
            raise BuildLayoutError(
                f"{build_dir}: built by an older labelmill (one {kind}.parquet); rebuild it"
                " with `labelmill build ... --overwrite`"
            )
        raise BuildLayoutError(f"{build_dir}: no {kind}/ folder; is this a finished build?")
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(path, detail=False))
    return [join(folder, n) for n in names if n.startswith("part-") and n.endswith(".parquet")]


def iter_parts(build_dir: str, kind: str) -> Iterator[pa.Table]:
    """Each part of `kind` as a table, one at a time (memory: one shard's rows)."""
    for url in part_urls(build_dir, kind):
        with fsspec.open(url, "rb") as fh:
            yield pq.read_table(fh)


def read_table(build_dir: str, kind: str) -> pa.Table:
    """Every part of `kind` as one table (the schema of an empty build when there is none)."""
    tables = list(iter_parts(build_dir, kind))
    return pa.concat_tables(tables) if tables else SCHEMAS[kind].empty_table()


def read_manifest(build_dir: str) -> list[dict[str, Any]]:
    """The manifest rows (one per written sample) in shard and input order."""
    return read_table(build_dir, "manifest").to_pylist()


def read_rejects(build_dir: str) -> list[dict[str, Any]]:
    """The rejects (one per input not written) in input row order."""
    return read_table(build_dir, "rejects").to_pylist()
