"""The shard stage: load, label and write one shard, its manifest and rejects parts, then leave
its completion marker.

Plain Python, called by the Beam DoFn in `graph.py` and directly by tests. Loading runs in a
thread pool ahead of the labelers (Pillow and file reads release the GIL), so decode stays off
the labelers' critical path. Every row ends written or rejected. The marker
(`_work/shards/shard-NNNNNN.json`, written last) holds the shard's small stats and its
fingerprint; a resumed build keeps a shard whose marker, fingerprint and tar sizes still match.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import fsspec
import numpy as np

from labelmill.extras import MissingExtraError
from labelmill.fetch import fetch_options
from labelmill.fileio import file_digest, read_state, write_json
from labelmill.labelers.base import Labeler
from labelmill.manifests.write import (
    REJECTS_SCHEMA,
    label_columns,
    manifest_schema,
    write_parquet,
)
from labelmill.pipelines.fingerprint import shard_fingerprint
from labelmill.pipelines.label_model_stage import VoteCounts, needs_label_model
from labelmill.pipelines.load import LoadOptions, load_sample
from labelmill.pipelines.plan import Plan
from labelmill.pipelines.tar_parts import TarParts
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import (
    InputRow,
    Reason,
    Reject,
    RejectError,
    Sample,
    Stage,
)
from labelmill.schemas.sample import encode_sample_json, sample_document
from labelmill.schemas.targets import target_classes, target_members

log = logging.getLogger(__name__)
LOAD_CHUNK = 8  # rows per loader task
EXAMPLES_PER_REASON = 3  # reject examples a marker keeps per reason (run.json's are capped too)
Report = Callable[[int, int], None]  # progress: (written, rejected) since the last call


@dataclass(frozen=True)
class ShardContext:
    """What a shard's bytes depend on besides its rows: the plan, the build's image format
    (known once every row is read) and the labelers' run-time options (harmonized mapping)."""

    plan: Plan
    image_ext: str
    run_options: dict[str, Any]

    @property
    def digest(self) -> str:
        options = json.dumps(self.run_options, sort_keys=True, default=str)
        return f"{self.plan.fingerprint}\n{self.image_ext}\n{options}"


def load_options(context: ShardContext, labelers: Sequence[Labeler]) -> LoadOptions:
    config = context.plan.config
    return LoadOptions(
        image_ext=context.image_ext,
        max_image_side=config.max_image_side,
        max_pixels=config.max_pixels,
        jpeg_quality=config.jpeg_quality,
        keep_pixels=any(labeler.needs_pixels for labeler in labelers),
        allow_roots=config.allow_roots,
        max_file_bytes=config.max_file_bytes,
        fetch=fetch_options(config),
    )


def _load(item: tuple[InputRow, str], options: LoadOptions) -> Sample | Reject:
    row, key = item
    try:
        return load_sample(row, key, options)
    except RejectError as exc:
        return Reject(row.row, row.id, exc.stage, exc.reason, exc.detail)
    except MissingExtraError:  # the environment, not the row: fail the shard with one message
        raise
    except Exception as exc:  # a loader bug must cost one sample, never the build
        detail = f"{row.image}: {type(exc).__name__}: {exc}"
        return Reject(row.row, row.id, Stage.IMAGE, Reason.UNEXPECTED_ERROR, detail)


def _prefetch(
    pool: ThreadPoolExecutor,
    rows: list[tuple[InputRow, str]],
    options: LoadOptions,
    ahead: int,
    size: int = LOAD_CHUNK,
) -> Iterator[Sample | Reject]:
    """Load rows in the pool, in order, in chunks of `size` (one task per local row costs more
    than decoding a thumbnail), keeping at most `ahead` chunks loaded but unconsumed:
    `pool.map` would queue the whole shard and hold every decoded image at once."""
    pending: deque[Future[list[Sample | Reject]]] = deque()
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        pending.append(pool.submit(lambda c: [_load(item, options) for item in c], chunk))
        if len(pending) >= ahead:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def _loading(config: BuildConfig, rows: Sequence[tuple[InputRow, str]]) -> tuple[int, int]:
    """Loader threads and rows per task for a shard: a shard with files behind a network waits
    on round trips, so it gets `fetch_threads` one-row tasks (as img2dataset runs many threads
    per process); a local one `load_threads` chunks, which decode rather than wait. Either way
    the rows come out in order, so the shard's bytes do not depend on it."""
    if any("://" in row.resolve(row.image or "") for row, _ in rows):
        return config.fetch_threads, 1
    return config.load_threads, LOAD_CHUNK


def _batches(items: Iterator[Sample | Reject], size: int) -> Iterator[list[Sample | Reject]]:
    while batch := list(islice(items, size)):
        yield batch


def label_samples(labelers: Sequence[Labeler], samples: list[Sample]) -> list[Reject]:
    """Run every labeler on a batch, appending records; returns the samples a labeler failed on.

    A labeler that raises on the batch is retried one sample at a time, so one bad sample
    is rejected with the error instead of taking its batch down with it.
    """
    failed: dict[int, Reject] = {}
    for labeler in labelers:
        todo = [i for i in range(len(samples)) if i not in failed]
        try:
            records = labeler.label_batch([samples[i] for i in todo])
            if len(records) != len(todo):
                raise RuntimeError(f"returned {len(records)} records for {len(todo)} samples")
        except Exception:
            records = []
            for i in list(todo):
                try:
                    records.append(labeler.label_batch([samples[i]])[0])
                except Exception as exc:
                    row = samples[i].row
                    detail = f"{labeler.source}: {type(exc).__name__}: {exc}"
                    failed[i] = Reject(row.row, row.id, Stage.LABEL, Reason.LABELER_ERROR, detail)
                    todo.remove(i)
        for i, record in zip(todo, records, strict=True):
            samples[i].records.append(record)
    return [failed[i] for i in sorted(failed)]


def sample_members(sample: Sample, classes: Sequence[str] = ()) -> dict[str, bytes]:
    """Member suffix -> bytes. A missing report is an empty `.txt` (and `report.present` false),
    so every sample of a build carries the same members; `classes` gives the target member."""
    members = {
        "json": encode_sample_json(sample_document(sample)),
        sample.image_ext: sample.image,
        "txt": (sample.report or "").encode("utf-8"),
    }
    for record in sample.records:
        for name, array in record.arrays.items():
            members[f"{name}.npy"] = _npy_bytes(array)
    members.update(target_members(sample.records, sample.final, classes))
    return members


def _npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(array), allow_pickle=False)
    return out.getvalue()


def manifest_row(
    sample: Sample, shard: str, sizes: dict[str, int], classes: Sequence[str] = ()
) -> dict[str, Any]:
    """One row of the manifest for a written sample."""
    return {
        "key": sample.key,
        "id": sample.row.id,
        "row": sample.row.row,
        "shard": shard,
        "members": list(sizes),
        "member_sizes": list(sizes.values()),
        "image_sha256": sample.image_info["sha256"],
        "width": sample.image_info["width"],
        "height": sample.image_info["height"],
        "report_present": bool(sample.report_info.get("present")),
        **label_columns(sample.records, sample.final, classes),
    }


def kept_marker(
    context: ShardContext, index: int, fingerprint: str, verify: bool = False
) -> dict[str, Any] | None:
    """The marker of a finished shard that may be kept: same fingerprint, every tar and part
    in place with its recorded size (and sha256 when `verify`); None when it must be rebuilt."""
    plan = context.plan
    fs, _ = fsspec.core.url_to_fs(plan.config.output)
    marker = read_state(plan.marker_url(index))
    if marker is None or marker.get("fingerprint") != fingerprint:
        return None
    if not _well_formed(marker, plan, index):
        return None
    parts = [plan.part_url("manifest", index), plan.part_url("rejects", index)]
    if not all(fs.exists(part) for part in parts):
        return None
    for tar in marker["tars"]:
        tar_url = f"{plan.config.output}/{tar['shard']}"
        if not fs.exists(tar_url) or fs.size(tar_url) != tar["size"]:
            return None
        if verify and file_digest(tar_url) != tar["sha256"]:
            return None
    return marker


def _well_formed(marker: dict[str, Any], plan: Plan, index: int) -> bool:
    """A marker whose fingerprint matches but whose body is damaged (or names a tar that is not
    this shard's) is rebuilt, never trusted."""
    tars = marker.get("tars")
    return isinstance(tars, list) and all(
        isinstance(tar, dict)
        and tar.get("shard") == plan.shard_name(index, part)
        and isinstance(tar.get("size"), int)
        and isinstance(tar.get("sha256"), str)
        for part, tar in enumerate(tars)
    )


def tally(rejects: Sequence[Reject]) -> tuple[dict[str, int], dict[str, list[dict[str, Any]]]]:
    """Rejects counted by reason, with the first few of each as examples (capped)."""
    by_reason = Counter(r.reason for r in rejects)
    examples: dict[str, list[dict[str, Any]]] = {}
    for reject in rejects:
        bucket = examples.setdefault(reject.reason, [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(reject.to_json())
    return dict(sorted(by_reason.items())), examples


def build_shard(
    context: ShardContext,
    index: int,
    rows: Sequence[tuple[InputRow, str]],
    manifest_rejects: Sequence[Reject],
    labelers: Sequence[Labeler],
    finalize: Any = None,
    report: Report | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """Load, label and write shard `index` (its rows in row order); returns and writes its
    marker. `finalize`, when given, turns a sample's records into its final record (the
    aggregator); `report` hears how many samples were written and rejected as it goes."""
    plan, config = context.plan, context.plan.config
    fingerprint = fingerprint or shard_fingerprint(context.digest, rows, manifest_rejects)
    options = load_options(context, labelers)
    classes = target_classes(config)
    votes = VoteCounts.for_config(config.aggregate) if needs_label_model(config) else None
    written: list[dict[str, Any]] = []
    rejects = list(manifest_rejects)
    if report:
        report(0, len(rejects))
    parts = TarParts(plan, index)
    rows = list(rows)
    threads, size = _loading(config, rows)
    with ThreadPoolExecutor(threads) as pool, parts:
        loaded = _prefetch(pool, rows, options, 2 * threads, size)
        for batch in _batches(loaded, config.batch_size):
            samples = [s for s in batch if isinstance(s, Sample)]
            failed = [s for s in batch if isinstance(s, Reject)]
            failed += label_samples(labelers, samples)
            rejects.extend(failed)
            failed_rows = {r.row for r in failed}
            kept = [s for s in samples if s.row.row not in failed_rows]
            for sample in kept:
                if finalize is not None:
                    sample.final = finalize(sample.records)
                if votes is not None:
                    votes.add(sample.records)
                name, sizes = parts.write(sample.key, sample_members(sample, classes))
                written.append(manifest_row(sample, name, sizes, classes))
            if report:
                report(len(kept), len(failed))
    rejects.sort(key=lambda r: r.row)
    write_parquet(plan.part_url("manifest", index), written, manifest_schema(classes))
    write_parquet(plan.part_url("rejects", index), [r.to_json() for r in rejects], REJECTS_SCHEMA)
    by_reason, examples = tally(rejects)
    marker = {
        "index": index,
        "fingerprint": fingerprint,
        "tars": parts.stats,
        "written": len(written),
        "rejected": len(rejects),
        "rejected_by_reason": by_reason,
        "reject_examples": examples,
        "labelers": [labeler.describe() for labeler in labelers],
        "votes": votes.to_json() if votes is not None else None,
        "label_model": None,
    }
    write_json(plan.marker_url(index), marker, indent=None)
    log.info("wrote shard %d: %d samples, %d rejected", index, len(written), len(rejects))
    return marker
