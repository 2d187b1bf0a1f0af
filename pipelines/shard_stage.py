"""The shard stage: load, label and write one shard, then leave its completion marker.

Plain Python, called by the Beam DoFn in `build.py` and directly by tests. Loading runs in a
thread pool ahead of the labelers (Pillow and file reads release the GIL), so decode stays off
the labelers' critical path. Every row ends written or rejected; the marker
(`_work/shard-NNNNNN.json`, written after the tar is in place) lists both and is what a
resumed build and the final manifests read.
"""

from __future__ import annotations

import io
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any

import numpy as np

from labelmill.extras import MissingExtraError
from labelmill.fetch import fetch_options
from labelmill.fileio import write_json
from labelmill.labelers.base import Labeler
from labelmill.manifests.write import label_columns
from labelmill.pipelines.load import LoadOptions, load_sample
from labelmill.pipelines.plan import Plan, read_shard_rows
from labelmill.pipelines.shards import open_shard
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


def load_options(plan: Plan, labelers: Sequence[Labeler]) -> LoadOptions:
    config = plan.config
    return LoadOptions(
        image_ext=plan.image_ext,
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
    pool: ThreadPoolExecutor, rows: list[tuple[InputRow, str]], options: LoadOptions, ahead: int
) -> Iterator[Sample | Reject]:
    """Load rows in the pool, in order, in small chunks (one task per row costs more than
    decoding a thumbnail), keeping at most `ahead` chunks loaded but unconsumed: `pool.map`
    would queue the whole shard and hold every decoded image at once."""
    pending: deque[Future[list[Sample | Reject]]] = deque()
    for start in range(0, len(rows), LOAD_CHUNK):
        chunk = rows[start : start + LOAD_CHUNK]
        pending.append(pool.submit(lambda c: [_load(item, options) for item in c], chunk))
        if len(pending) >= ahead:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


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
    """One row of manifest.parquet for a written sample."""
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


def build_shard(
    plan: Plan, index: int, labelers: Sequence[Labeler], finalize: Any = None
) -> dict[str, Any]:
    """Load, label and write shard `index`; returns (and writes) its completion marker.

    `finalize`, when given, turns a sample's records into its final record (the aggregator).
    """
    options = load_options(plan, labelers)
    classes = target_classes(plan.config)
    rows = read_shard_rows(plan, index)
    shard_name = f"shards/{plan.shard_names[index]}"
    written: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    with ThreadPoolExecutor(plan.config.load_threads) as pool, open_shard(
        plan.shard_url(index)
    ) as writer:
        ahead = 2 * plan.config.load_threads
        loaded = _prefetch(pool, rows, options, ahead)
        for batch in _batches(loaded, plan.config.batch_size):
            samples = [s for s in batch if isinstance(s, Sample)]
            rejects.extend(s for s in batch if isinstance(s, Reject))
            bad = label_samples(labelers, samples)
            rejects.extend(bad)
            failed = {r.row for r in bad}
            for sample in samples:
                if sample.row.row in failed:
                    continue
                if finalize is not None:
                    sample.final = finalize(sample.records)
                sizes = writer.write(sample.key, sample_members(sample, classes))
                written.append(manifest_row(sample, shard_name, sizes, classes))
    marker = {
        "index": index,
        "shard": shard_name,
        "nsamples": len(written),
        "size": writer.size,
        "sha256": writer.sha256,
        "md5": writer.md5,
        "samples": written,
        "rejects": [r.to_json() for r in sorted(rejects, key=lambda r: r.row)],
        "labelers": [labeler.describe() for labeler in labelers],
    }
    write_json(plan.marker_url(index), marker, indent=None)
    log.info("wrote %s: %d samples, %d rejected", shard_name, len(written), len(rejects))
    return marker
