"""The build pipeline: plan, then one Beam stage that writes shards in parallel, then the manifests.

    plan  ->  Create(shard ids) | Reshuffle | ParDo(BuildShardFn)  ->  finalize

Only shard ids travel through Beam; each worker reads its shard's rows from the staged Parquet
file, so memory stays flat as the dataset grows, on the in-process runner and on Dataflow alike.
A shard whose marker and tar check out is kept on a rerun; the rest are redone.
"""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

import apache_beam as beam
import fsspec
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from labelmill.fileio import join, read_json, sha256_file, write_json
from labelmill.labelers.base import Labeler, create
from labelmill.manifests.write import (
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    write_parquet,
    write_wids_index,
)
from labelmill.pipelines.plan import WORK, Plan, make_plan
from labelmill.pipelines.progress import Progress
from labelmill.pipelines.shard_stage import build_shard
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import Reject

log = logging.getLogger(__name__)

VERSIONED = ("apache-beam", "pyarrow", "pillow", "numpy", "pydicom", "webdataset", "spacy", "torch")


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the command line; the local default is the in-process FnApiRunner,
    never the DirectRunner's Prism path, which downloads a binary at run time."""
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = "FnApiRunner"
    return options


def make_labelers(plan: Plan) -> list[Labeler]:
    return [create(spec.name, spec.options) for spec in plan.config.labelers]


def make_finalizer(config: BuildConfig) -> Callable[[list], dict[str, Any]] | None:
    """The aggregator that turns a sample's records into its final record, if configured."""
    if not config.aggregate:
        return None
    from labelmill.labelers.aggregate import aggregator_from_config

    return aggregator_from_config(config.aggregate)


class BuildShardFn(beam.DoFn):
    """Builds whole shards; labelers are created and set up once per worker."""

    def __init__(self, output: str) -> None:
        self.output = output

    def setup(self) -> None:
        self.plan = load_plan(self.output)
        self.labelers = make_labelers(self.plan)
        for labeler in self.labelers:
            labeler.setup()
        self.finalize = make_finalizer(self.plan.config)

    def process(self, index: int) -> Any:
        marker = build_shard(self.plan, index, self.labelers, self.finalize)
        yield {"index": index, "written": marker["nsamples"], "rejected": len(marker["rejects"])}


def load_plan(output: str) -> Plan:
    from labelmill.schemas.config import LabelerSpec

    data = read_json(join(output, WORK, "plan.json"))
    config = dict(data["config"])
    config["labelers"] = tuple(LabelerSpec(**spec) for spec in config["labelers"])
    return Plan(
        config=BuildConfig(**config),
        fingerprint=data["fingerprint"],
        image_ext=data["image_ext"],
        shard_names=tuple(data["shard_names"]),
        read=data["read"],
    )


def pending_shards(plan: Plan) -> list[int]:
    """Shards to (re)build: those without a marker, or whose tar is missing or differs from it.

    Temporary files left by a killed run are removed first.
    """
    fs, out = fsspec.core.url_to_fs(plan.config.output)
    for leftover in fs.glob(f"{out}/shards/*.tmp-*") + fs.glob(f"{out}/{WORK}/*.tmp-*"):
        fs.rm(leftover)
    todo = []
    for index in range(len(plan.shard_names)):
        marker_url, shard_url = plan.marker_url(index), plan.shard_url(index)
        if not (fs.exists(marker_url) and fs.exists(shard_url)):
            todo.append(index)
            continue
        marker = read_json(marker_url)
        if fs.size(shard_url) != marker["size"] or sha256_file(shard_url) != marker["sha256"]:
            todo.append(index)
    return todo


def run(
    config: BuildConfig,
    beam_args: Sequence[str] = (),
    overwrite: bool = False,
    test_pipeline: beam.Pipeline | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Build `config.input` into `config.output`; returns the run summary (also in run.json)."""
    started = time.time()
    plan, manifest_rejects = make_plan(config, overwrite=overwrite)
    todo = pending_shards(plan)
    log.info("%d shards planned, %d to build", len(plan.shard_names), len(todo))
    if todo:
        with Progress(plan, todo, enabled=show_progress):
            pipeline = test_pipeline or beam.Pipeline(options=pipeline_options(beam_args))
            _ = (
                pipeline
                | "ShardIds" >> beam.Create(todo)
                | "Spread" >> beam.Reshuffle()
                | "BuildShards" >> beam.ParDo(BuildShardFn(config.output))
            )
            pipeline.run().wait_until_finish()
    return finalize(plan, manifest_rejects, time.time() - started, rebuilt=len(todo))


def finalize(
    plan: Plan, manifest_rejects: list[Reject], wall: float, rebuilt: int
) -> dict[str, Any]:
    """Write manifest.parquet, rejects.parquet, index.json and run.json from the shard markers."""
    output = plan.config.output
    markers = [read_json(plan.marker_url(i)) for i in range(len(plan.shard_names))]
    samples = [row for m in markers for row in m["samples"]]
    rejects = [r.to_json() for r in manifest_rejects] + [r for m in markers for r in m["rejects"]]
    rejects.sort(key=lambda r: r["row"])
    write_parquet(join(output, "manifest.parquet"), samples, MANIFEST_SCHEMA)
    write_parquet(join(output, "rejects.parquet"), rejects, REJECTS_SCHEMA)
    write_wids_index(output, markers)
    by_reason = Counter(r["reason"] for r in rejects)
    examples: dict[str, list[dict[str, Any]]] = {}
    for reject in rejects:
        bucket = examples.setdefault(reject["reason"], [])
        if len(bucket) < 3:
            bucket.append(reject)
    labelers = next((m["labelers"] for m in markers if m.get("labelers")), None)
    summary = {
        "config": plan.config.to_json(),
        "fingerprint": plan.fingerprint,
        "image_ext": plan.image_ext,
        "versions": _versions(),
        "labelers": labelers or [{"source": spec.name} for spec in plan.config.labelers],
        "counts": {
            "read": plan.read,
            "written": len(samples),
            "rejected": len(rejects),
            "rejected_by_reason": dict(sorted(by_reason.items())),
            "balanced": len(samples) + len(rejects) == plan.read,
        },
        "reject_examples": examples,
        "shards": [
            {key: m[key] for key in ("shard", "nsamples", "size", "sha256")} for m in markers
        ],
        "shards_rebuilt": rebuilt,
        "wall_time_s": round(wall, 3),
    }
    write_json(join(output, "run.json"), summary)
    if not summary["counts"]["balanced"]:
        raise RuntimeError(
            f"accounting error: written {len(samples)} + rejected {len(rejects)}"
            f" != read {plan.read}"
        )
    return summary


def _versions() -> dict[str, str]:
    versions = {"labelmill": metadata.version("labelmill"), "python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
