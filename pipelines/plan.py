"""Plan a build: what the launcher decides before any row is read, and the row-level rules the
Beam graph applies (keys, dedup, shard assignment) as plain functions.

The launcher lists the input files, fingerprints the config and checks the output folder; it
never reads a row. Rows get a global number from their position (unit, row in unit) and the
per-unit row counts, so the rules below give the same answer on any runner and worker count:

- a row's key comes from its id; among rows that share a key, in row order, a repeated id is a
  `duplicate_id` and the first row of another id is a `key_collision` (the first wins);
- shard `i` holds the next `shard_limit(i)` input positions after shard `i - 1` (a fixed
  `shard_max_samples`, or by default 8, 16, 32, ... up to 1000): a fixed run of positions (rows
  rejected in the manifest leave their slot empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import fsspec

from labelmill.fileio import join, read_state, write_json
from labelmill.manifests.keys import make_key
from labelmill.manifests.parts import Unit, absolute, list_inputs
from labelmill.manifests.write import OUTPUT_NAMES
from labelmill.pipelines.fingerprint import config_fingerprint
from labelmill.schemas.config import BuildConfig, LabelerSpec, with_labeler
from labelmill.schemas.records import InputRow, Reason, Reject, Stage

WORK = "_work"
PLAN_VERSION = 2  # the layout of _work/ and of the outputs
RAMP_STEPS = 64  # shard sizes may change over the first shards only


class ResumeError(RuntimeError):
    """The output folder holds a build with another config."""


@dataclass(frozen=True)
class Plan:
    """What every worker needs to know; small (no rows), pickled into the Beam graph."""

    config: BuildConfig
    fingerprint: str
    units: tuple[Unit, ...]

    @property
    def work(self) -> str:
        return join(self.config.output, WORK)

    def shard_of(self, row: int) -> int:
        """The shard of input row `row`: shard `i` holds the next `config.shard_limit(i)`
        positions. The limit ramps up (8, 16, ... by default) and then stays put, so this walks
        the ramp and divides the rest."""
        position, index = row - 1, 0
        limit = self.config.shard_limit
        while limit(index) != limit(index + 1) and index < RAMP_STEPS:
            if position < limit(index):
                return index
            position -= limit(index)
            index += 1
        return index + position // limit(index)

    def shard_name(self, index: int, part: int = 0) -> str:
        """`shards/NAME-000012.tar`; a shard cut by `shard_max_bytes` goes on in `_001`, ..."""
        suffix = f"_{part:03d}" if part else ""
        return f"shards/{self.config.name}-{index:06d}{suffix}.tar"

    def marker_url(self, index: int) -> str:
        return join(self.work, "shards", f"shard-{index:06d}.json")

    def part_url(self, kind: str, index: int) -> str:
        return join(self.config.output, kind, f"part-{index:06d}.parquet")


def image_extension(image_format: str, all_jpeg: bool) -> str:
    """The one image member extension of a build. `keep` keeps JPEG when every input is JPEG,
    and PNG otherwise (lossless for everything else, DICOM included)."""
    if image_format == "png":
        return "png"
    if image_format == "jpeg":
        return "jpg"
    return "jpg" if all_jpeg else "png"


def is_jpeg(row: InputRow) -> bool:
    return row.image.lower().endswith((".jpg", ".jpeg"))


def key_of(item: InputRow | Reject) -> tuple[str, InputRow] | Reject:
    """(key, row), or the row's reject: a bad row or an empty id."""
    if isinstance(item, Reject):
        return item
    try:
        return make_key(item.id), item
    except ValueError:  # nothing left of the id once normalised
        return Reject(item.row, item.id or None, Stage.MANIFEST, Reason.EMPTY_ID, "id is empty")


def settle_key(key: str, rows: Iterable[InputRow]) -> Iterator[tuple[InputRow, str] | Reject]:
    """The rows that share `key`: the first row of the first id keeps it; the rest are rejects
    naming what they collide with. Two passes over `rows` (Beam's grouped values re-iterate),
    holding one number per distinct id, so a key repeated a million times costs no memory."""
    first: dict[str, int] = {}
    for row in rows:
        if row.id not in first or row.row < first[row.id]:
            first[row.id] = row.row
    holder = min(first, key=lambda sample_id: first[sample_id])
    for row in rows:
        if row.row != first[row.id]:
            detail = f"id {row.id!r} already at row {first[row.id]}"
            yield Reject(row.row, row.id, Stage.MANIFEST, Reason.DUPLICATE_ID, detail)
        elif row.id != holder:
            detail = f"key {key!r} already used by id {holder!r}"
            yield Reject(row.row, row.id, Stage.MANIFEST, Reason.KEY_COLLISION, detail)
        else:
            yield row, key


def renumber(item: InputRow | Reject, offset: int) -> InputRow | Reject:
    """A row (or reject) with its number within its unit turned into its global row number."""
    return replace(item, row=item.row + offset)


def make_plan(config: BuildConfig, overwrite: bool = False) -> Plan:
    """Check the inputs and the output folder and write `_work/plan.json`; reads no row.
    Refuses an output folder built with another config unless `overwrite`."""
    config = replace(config, input=absolute(config.input), output=absolute(config.output))
    if config.harmonize and not any(s.name == "manifest_labels" for s in config.labelers):
        config = with_labeler(config, LabelerSpec("manifest_labels"))
    units = tuple(list_inputs(config.input))
    plan = Plan(config, config_fingerprint(config), units)
    _check_previous(plan, overwrite)
    fs, _ = fsspec.core.url_to_fs(config.output)
    if fs.exists(join(config.output, "run.json")):
        fs.rm(join(config.output, "run.json"))  # a build in progress is not a finished build
    write_json(join(plan.work, "plan.json"), _plan_json(plan))
    return plan


def release_plan(plan: Plan) -> None:
    """Remove `_work/plan.json` of a job that built no shard (it failed at start, or was a dry
    run or a template), so the folder no longer claims a build and a corrected config needs no
    --overwrite."""
    fs, path = fsspec.core.url_to_fs(join(plan.work, "plan.json"))
    if fs.exists(path):
        fs.rm(path)


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "version": PLAN_VERSION,
        "config": plan.config.to_json(),
        "fingerprint": plan.fingerprint,
        "inputs": len(plan.units),
    }


def _check_previous(plan: Plan, overwrite: bool) -> None:
    """Keep a previous build of the same config (resume); refuse or clear another one."""
    output = plan.config.output
    fs, _ = fsspec.core.url_to_fs(output)
    plan_url = join(plan.work, "plan.json")
    old_layout = fs.exists(join(output, "manifest.parquet"))
    if not fs.exists(plan_url) and not old_layout:
        return
    previous = read_state(plan_url) if fs.exists(plan_url) else {}
    same = previous is not None and previous.get("fingerprint") == plan.fingerprint
    if same and previous.get("version") == PLAN_VERSION:
        return
    if not overwrite:
        what = "a damaged _work/plan.json" if previous is None else "a build with another config"
        raise ResumeError(
            f"{output} holds {what} (or an older labelmill layout); "
            "pass --overwrite to replace it, or choose another --output"
        )
    for name in (*OUTPUT_NAMES, WORK, "manifest.parquet", "rejects.parquet"):
        url = join(output, name)
        if fs.exists(url):
            fs.rm(url, recursive=True)
