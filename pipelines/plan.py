"""Plan a build before any worker starts: read and validate the manifest, give every row its key,
reject empty, duplicate and colliding ids, and cut the rows into shards.

A shard is a fixed run of input rows, so its contents depend only on the inputs and the config,
never on the runner or the number of workers. The rows are staged in `_work/rows.parquet` with
one row group per shard: a worker reads exactly its shard's rows, and no large list is ever
handed to `beam.Create`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from labelmill.fileio import atomic_open, join, read_json, write_json
from labelmill.manifests.keys import make_key
from labelmill.manifests.read import read_inputs
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


def assign_keys(rows: list[InputRow]) -> tuple[list[tuple[InputRow, str]], list[Reject]]:
    """Give each row its key; reject empty ids, repeated ids and ids whose keys collide."""
    kept: list[tuple[InputRow, str]] = []
    rejects: list[Reject] = []
    first_row_of_id: dict[str, int] = {}
    id_of_key: dict[str, str] = {}
    for row in rows:
        if not row.id:
            rejects.append(Reject(row.row, None, Stage.MANIFEST, Reason.EMPTY_ID, "id is empty"))
            continue
        if row.id in first_row_of_id:
            detail = f"id {row.id!r} already at row {first_row_of_id[row.id]}"
            rejects.append(Reject(row.row, row.id, Stage.MANIFEST, Reason.DUPLICATE_ID, detail))
            continue
        first_row_of_id[row.id] = row.row
        key = make_key(row.id)
        if key in id_of_key:
            detail = f"key {key!r} already used by id {id_of_key[key]!r}"
            rejects.append(Reject(row.row, row.id, Stage.MANIFEST, Reason.KEY_COLLISION, detail))
            continue
        id_of_key[key] = row.id
        kept.append((row, key))
    return kept, rejects


def image_extension(image_format: str, rows: list[InputRow]) -> str:
    """The one image member extension of a build. `keep` keeps JPEG when every input is JPEG,
    and PNG otherwise (lossless for everything else, DICOM included)."""
    if image_format == "png":
        return "png"
    if image_format == "jpeg":
        return "jpg"
    all_jpeg = rows and all(r.image.lower().endswith((".jpg", ".jpeg")) for r in rows)
    return "jpg" if all_jpeg else "png"


def _source_size(url: str) -> int:
    """Bytes of a local source file (0 when unknown); remote sizes are not fetched one by one."""
    if "://" in url:
        return 0
    try:
        return os.path.getsize(url)
    except OSError:
        return 0


def cut_shards(
    keyed: list[tuple[InputRow, str]], max_samples: int, max_bytes: int | None
) -> list[list[tuple[InputRow, str]]]:
    """Cut rows, in input order, into runs of at most `max_samples` rows and about `max_bytes`
    of source bytes (local files are measured; remote ones count by samples only)."""
    shards: list[list[tuple[InputRow, str]]] = []
    current: list[tuple[InputRow, str]] = []
    current_bytes = 0
    for item in keyed:
        size = _source_size(item[0].resolve(item[0].image)) if max_bytes else 0
        full = len(current) >= max_samples or (max_bytes and current_bytes + size > max_bytes)
        if current and full:
            shards.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += size
    if current:
        shards.append(current)
    return shards


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


def _fingerprint_rows(rows: list[InputRow], rejects: list[Reject]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        item = [row.row, row.id, row.image, row.report, row.report_path, row.labels, row.meta]
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    for reject in rejects:
        digest.update(json.dumps(reject.to_json(), sort_keys=True).encode())
    return digest.hexdigest()


def harmonize_labels(config: BuildConfig, rows: list[InputRow]) -> BuildConfig:
    """Map the manifest's distinct label strings onto the ontology once, here in the launcher,
    and hand the mapping to the `manifest_labels` labeler of every worker with the plan.
    The decisions (method, score, model) are kept in `_work/harmonize.json` for the audit."""
    if not config.harmonize:
        return config
    from labelmill.labelers.harmonize import Harmonizer

    options = dict(config.harmonize)
    harmonizer = Harmonizer(
        options.pop("ontology"),
        llm=options.pop("llm", "none"),
        cache_dir=options.pop("cache_dir", None) or default_cache_dir("harmonize"),
    )
    if options:
        raise ValueError(f"harmonize: unknown option(s) {sorted(options)}")
    strings = sorted({label for row in rows for label in row.labels})
    decisions = harmonizer.map(strings)
    write_json(
        join(config.output, WORK, "harmonize.json"),
        {
            "harmonizer": harmonizer.describe(),
            "decisions": [decisions[s].to_json() for s in strings],
        },
    )
    mapping = {raw: decision.label for raw, decision in decisions.items()}
    spec = next((s for s in config.labelers if s.name == "manifest_labels"), None)
    options = {**(spec.options if spec else {}), "mapping": mapping}
    return with_labeler(config, LabelerSpec("manifest_labels", options))


def default_cache_dir(name: str) -> str:
    """Where model answers are cached between runs: $LABELMILL_CACHE or ~/.cache/labelmill."""
    root = os.environ.get("LABELMILL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "labelmill"
    )
    return os.path.join(root, name)


def make_plan(config: BuildConfig, overwrite: bool = False) -> tuple[Plan, list[Reject]]:
    """Read the inputs, stage the rows and write `_work/plan.json`; returns the plan and the
    manifest-stage rejects. Refuses an output folder built with another config."""
    rows, rejects = read_inputs(config.input, config.manifest_encoding)
    fingerprint = config.fingerprint(_fingerprint_rows(rows, rejects))
    _check_previous(config, fingerprint, overwrite)
    config = harmonize_labels(config, rows)
    keyed, key_rejects = assign_keys(rows)
    rejects = sorted([*rejects, *key_rejects], key=lambda r: r.row)
    ext = image_extension(config.image_format, [row for row, _ in keyed])
    shards = cut_shards(keyed, config.shard_max_samples, config.shard_max_bytes)
    names = tuple(f"{config.name}-{i:06d}.tar" for i in range(len(shards)))
    unparsed = sum(1 for r in rejects if r.reason == Reason.BAD_ROW)
    plan = Plan(config, fingerprint, ext, names, read=len(rows) + unparsed)
    with atomic_open(join(plan.work, "rows.parquet")) as fh:
        with pq.ParquetWriter(fh, ROWS_SCHEMA) as writer:
            for shard in shards:
                writer.write_table(_row_table(shard), row_group_size=len(shard))
    write_json(join(plan.work, "manifest_rejects.json"), [r.to_json() for r in rejects])
    write_json(join(plan.work, "plan.json"), plan.to_json())
    return plan, rejects


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
