"""Plan a build before any worker starts: read and validate the manifest, give every row its key,
reject empty, duplicate and colliding ids, and cut the rows into shards.

A shard is a fixed run of input rows, so its contents depend only on the inputs and the config,
never on the runner or the number of workers. The rows are staged in `_work/rows.parquet` with
one row group per shard: a worker reads exactly its shard's rows, and no large list is ever
handed to `beam.Create`. The manifest is streamed and staged in one pass, so the launcher
holds one shard of rows at a time, plus the ids seen so far.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from labelmill.fileio import atomic_open, file_digest, join, read_json, write_json
from labelmill.manifests.keys import make_key
from labelmill.manifests.read import iter_inputs
from labelmill.pipelines.harmonize_stage import RunOptions, harmonize_labels
from labelmill.schemas.config import BuildConfig, LabelerSpec, with_labeler
from labelmill.schemas.records import InputRow, Reason, Reject, Stage

WORK = "_work"
ROWS_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("id", pa.string()),
        ("key", pa.string()),
        ("image", pa.string()),
        ("report", pa.string()),
        ("report_path", pa.string()),
        ("labels", pa.list_(pa.string())),
        ("meta", pa.string()),
        ("base", pa.string()),
    ]
)


class ResumeError(RuntimeError):
    """The output folder holds a build with another config or other inputs."""


@dataclass(frozen=True)
class Plan:
    """What the shard stage needs to know, written to `_work/plan.json` for every worker."""

    config: BuildConfig
    fingerprint: str
    image_ext: str
    shard_names: tuple[str, ...]
    read: int

    @property
    def work(self) -> str:
        return join(self.config.output, WORK)

    def shard_url(self, index: int) -> str:
        return join(self.config.output, "shards", self.shard_names[index])

    def marker_url(self, index: int) -> str:
        return join(self.work, f"shard-{index:06d}.json")

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "fingerprint": self.fingerprint,
            "image_ext": self.image_ext,
            "shard_names": list(self.shard_names),
            "read": self.read,
        }


class KeyAssigner:
    """Gives each row its key, in input order; rejects empty ids, repeated ids and ids whose
    keys collide with an earlier id's (the second is rejected, never overwrites)."""

    def __init__(self) -> None:
        self.first_row_of_id: dict[str, int] = {}
        self.id_of_key: dict[str, str] = {}

    def __call__(self, row: InputRow) -> str | Reject:
        if not row.id:
            return Reject(row.row, None, Stage.MANIFEST, Reason.EMPTY_ID, "id is empty")
        if row.id in self.first_row_of_id:
            detail = f"id {row.id!r} already at row {self.first_row_of_id[row.id]}"
            return Reject(row.row, row.id, Stage.MANIFEST, Reason.DUPLICATE_ID, detail)
        self.first_row_of_id[row.id] = row.row
        key = make_key(row.id)
        if key in self.id_of_key:
            detail = f"key {key!r} already used by id {self.id_of_key[key]!r}"
            return Reject(row.row, row.id, Stage.MANIFEST, Reason.KEY_COLLISION, detail)
        self.id_of_key[key] = row.id
        return key


def image_extension(image_format: str, all_jpeg: bool) -> str:
    """The one image member extension of a build. `keep` keeps JPEG when every input is JPEG,
    and PNG otherwise (lossless for everything else, DICOM included)."""
    if image_format == "png":
        return "png"
    if image_format == "jpeg":
        return "jpg"
    return "jpg" if all_jpeg else "png"


def _source_size(url: str) -> int:
    """Bytes of a local source file (0 when unknown); remote sizes are not fetched one by one."""
    if "://" in url:
        return 0
    try:
        return os.path.getsize(url)
    except OSError:
        return 0


class ShardCutter:
    """Cuts rows, in input order, into runs of at most `max_samples(shard index)` rows and about
    `max_bytes` of source bytes (local files are measured; remote ones count by samples only)."""

    def __init__(self, max_samples: Callable[[int], int], max_bytes: int | None) -> None:
        self.max_samples, self.max_bytes = max_samples, max_bytes
        self.current: list[tuple[InputRow, str]] = []
        self.current_bytes = 0
        self.done = 0

    def add(self, row: InputRow, key: str) -> list[tuple[InputRow, str]] | None:
        """Add a row; returns the shard it completes, if adding it closed one."""
        size = _source_size(row.resolve(row.image)) if self.max_bytes else 0
        full = len(self.current) >= self.max_samples(self.done) or (
            self.max_bytes and self.current_bytes + size > self.max_bytes
        )
        done = None
        if self.current and full:
            done, self.current, self.current_bytes = self.current, [], 0
            self.done += 1
        self.current.append((row, key))
        self.current_bytes += size
        return done


def _row_table(items: list[tuple[InputRow, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "row": row.row,
                "id": row.id,
                "key": key,
                "image": row.image,
                "report": row.report,
                "report_path": row.report_path,
                "labels": list(row.labels),
                "meta": json.dumps(row.meta, sort_keys=True, default=str),
                "base": row.base,
            }
            for row, key in items
        ],
        schema=ROWS_SCHEMA,
    )


def read_shard_rows(plan: Plan, index: int) -> list[tuple[InputRow, str]]:
    """The rows of shard `index`, read from the staged Parquet file (one row group per shard)."""
    with fsspec.open(join(plan.work, "rows.parquet"), "rb") as fh:
        table = pq.ParquetFile(fh).read_row_group(index)
    return [
        (
            InputRow(
                row=r["row"],
                id=r["id"],
                image=r["image"],
                report=r["report"],
                report_path=r["report_path"],
                labels=tuple(r["labels"] or ()),
                meta=json.loads(r["meta"]),
                base=r["base"],
            ),
            r["key"],
        )
        for r in table.to_pylist()
    ]


def input_digest(path: str) -> str:
    """sha256 of the manifest file's bytes, or of a folder's file listing (names and sizes):
    whatever changes the inputs changes the build's fingerprint, so a resume can tell."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    if not fs.isdir(fs_path):
        return file_digest(path)
    digest = hashlib.sha256()
    for name, info in sorted(fs.find(fs_path, detail=True).items()):
        digest.update(f"{name[len(fs_path) :]}\t{info.get('size')}\n".encode())
    return digest.hexdigest()


def make_plan(
    config: BuildConfig, overwrite: bool = False
) -> tuple[Plan, list[Reject], RunOptions]:
    """Read the inputs, stage the rows and write `_work/plan.json`. Returns the plan, the
    manifest-stage rejects, and labeler options computed from the whole input (the harmonized
    mapping). Refuses an output folder built with another config."""
    if config.harmonize and not any(s.name == "manifest_labels" for s in config.labelers):
        config = with_labeler(config, LabelerSpec("manifest_labels"))
    fingerprint = config.fingerprint(input_digest(config.input))
    _check_previous(config, fingerprint, overwrite)
    rejects: list[Reject] = []
    keys = KeyAssigner()
    cutter = ShardCutter(config.shard_limit, config.shard_max_bytes)
    labels: set[str] = set()
    read, shards, all_jpeg = 0, 0, True
    with atomic_open(join(config.output, WORK, "rows.parquet")) as fh:
        with pq.ParquetWriter(fh, ROWS_SCHEMA) as writer:

            def stage(shard: list[tuple[InputRow, str]]) -> None:
                writer.write_table(_row_table(shard), row_group_size=len(shard))

            for item in iter_inputs(
                config.input, config.manifest_encoding, config.columns, config.sep
            ):
                read += 1
                key = item if isinstance(item, Reject) else keys(item)
                if isinstance(key, Reject):
                    rejects.append(key)
                    continue
                labels.update(item.labels)
                all_jpeg = all_jpeg and item.image.lower().endswith((".jpg", ".jpeg"))
                if done := cutter.add(item, key):
                    stage(done)
                    shards += 1
            if cutter.current:
                stage(cutter.current)
                shards += 1
    run_options = harmonize_labels(config, labels, join(config.output, WORK))
    names = tuple(f"{config.name}-{i:06d}.tar" for i in range(shards))
    ext = image_extension(config.image_format, all_jpeg and shards > 0)
    plan = Plan(config, fingerprint, ext, names, read=read)
    write_json(join(plan.work, "manifest_rejects.json"), [r.to_json() for r in rejects])
    write_json(join(plan.work, "plan.json"), plan.to_json())
    return plan, rejects, run_options


def _check_previous(config: BuildConfig, fingerprint: str, overwrite: bool) -> None:
    """Keep a previous build with the same fingerprint (resume); refuse or clear another one."""
    plan_url = join(config.output, WORK, "plan.json")
    fs, _ = fsspec.core.url_to_fs(plan_url)
    if not fs.exists(plan_url):
        return
    previous = read_json(plan_url).get("fingerprint")
    if previous == fingerprint:
        return
    if not overwrite:
        raise ResumeError(
            f"{config.output} holds a build with another config or other inputs; "
            "pass --overwrite to replace it, or choose another --output"
        )
    for name in ("shards", WORK, "manifest.parquet", "rejects.parquet", "index.json", "run.json"):
        url = join(config.output, name)
        if fs.exists(url):
            fs.rm(url, recursive=True)
