"""Write a build's output layout: `manifest/part-NNNNNN.parquet` and `rejects/part-NNNNNN.parquet`
(one part per shard, written by the worker that built it, readable as one table by pyarrow,
pandas, duckdb and `datasets`), and the wids shard index from the small per-shard stats.
Every file is derived from its shard alone, so a resumed build writes the same files as a clean
one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelmill.fileio import atomic_open, join, write_json

# Everything a build writes at the top of its output folder.
OUTPUT_NAMES = ("shards", "manifest", "rejects", "index.json", "run.json", "classes.json")

# Per source, label -> 1/0/-1 and label -> score: typed maps, readable without JSON parsing
# (duckdb: labels['reports/chestxray14']['Effusion']).
SOURCE_LABELS = pa.map_(pa.string(), pa.map_(pa.string(), pa.int8()))
SOURCE_SCORES = pa.map_(pa.string(), pa.map_(pa.string(), pa.float32()))
MANIFEST_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("id", pa.string()),
        ("row", pa.int64()),
        ("shard", pa.string()),
        ("members", pa.list_(pa.string())),
        ("member_sizes", pa.list_(pa.int64())),
        ("image_sha256", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("report_present", pa.bool_()),
        ("labels", SOURCE_LABELS),
        ("scores", SOURCE_SCORES),
        ("final", pa.string()),
    ]
)
REJECTS_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("id", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)


def manifest_schema(classes: Sequence[str]) -> pa.Schema:
    """The manifest's schema; with a label set, a `target` struct of one float32 per label
    (the values of `{key}.labels.npy`; duckdb: target.Effusion, pandas: a dict per row)."""
    if not classes:
        return MANIFEST_SCHEMA
    target = pa.struct([(c, pa.float32()) for c in classes])
    return MANIFEST_SCHEMA.append(pa.field("target", target))


def label_columns(
    records: Sequence[Any], final: dict[str, Any] | None, classes: Sequence[str]
) -> dict[str, Any]:
    """The label part of one manifest row: typed per-source maps, the final record as JSON
    text (it holds every vote), and the target per label when the build has a label set."""
    from labelmill.schemas.targets import target_vector

    row = {
        "labels": {r.source: dict(r.labels) for r in records},
        "scores": {r.source: {k: float(v) for k, v in r.scores.items()} for r in records},
        "final": json.dumps(final, sort_keys=True) if final else None,
    }
    if classes:
        vector = target_vector(records, final, classes)
        row["target"] = {c: float(v) for c, v in zip(classes, vector, strict=True)}
    return row


def write_parquet_batches(
    url: str, batches: Iterable[Sequence[dict[str, Any]]], schema: pa.Schema
) -> None:
    """Atomically write row batches (one row group each) without holding them all at once."""
    with atomic_open(url) as fh, pq.ParquetWriter(fh, schema) as writer:
        for rows in batches:
            if rows:
                writer.write_table(pa.Table.from_pylist(list(rows), schema=schema))


def write_wids_index(output: str, markers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The wids shard index, urls relative to the output folder (so the folder can move).
    `markers`: one entry per tar (shard, nsamples, size, md5)."""
    index = {
        "__kind__": "wids-shard-index-v1",
        "wids_version": 1,
        "shardlist": [
            {
                "url": m["shard"],
                "nsamples": m["nsamples"],
                "filesize": m["size"],
                "md5sum": m["md5"],
            }
            for m in markers
            if m["nsamples"] > 0
        ],
    }
    write_json(join(output, "index.json"), index)
    return index


def write_parquet(url: str, rows: Sequence[dict[str, Any]], schema: pa.Schema) -> None:
    """Atomically write rows as one Parquet file with a fixed schema."""
    write_parquet_batches(url, [rows], schema)
