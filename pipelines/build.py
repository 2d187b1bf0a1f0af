"""The build pipeline: plan, a Beam stage that writes shards in parallel, then the manifests.

    plan  ->  Create(shard ids) | Reshuffle | ParDo(BuildShardFn)      ->  write_outputs
              [with a label model: fit, then ParDo(FinalizeShardFn)]

Only shard ids travel through Beam; each worker reads its shard's rows from the staged Parquet
file, so memory stays flat as the dataset grows, on the in-process runner and on Dataflow alike.
A shard whose marker and tar check out is kept on a rerun; the rest are redone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import apache_beam as beam
import fsspec
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from labelmill.fileio import file_digest, join, read_json
from labelmill.filesystems import check_build_filesystems
from labelmill.labelers.base import Labeler, create
from labelmill.pipelines import label_model_stage
from labelmill.pipelines.harmonize_stage import RunOptions
from labelmill.pipelines.outputs import write_outputs
from labelmill.pipelines.plan import WORK, Plan, make_plan
from labelmill.pipelines.progress import Progress
from labelmill.pipelines.shard_stage import build_shard
from labelmill.schemas.config import BuildConfig

log = logging.getLogger(__name__)


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the command line; the local default is the in-process FnApiRunner,
    never the DirectRunner's Prism path, which downloads a binary at run time."""
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = "FnApiRunner"
    return options


def make_labelers(plan: Plan, run_options: RunOptions) -> list[Labeler]:
    """The configured labelers, with the options computed at plan time merged in."""
    return [
        create(spec.name, {**spec.options, **run_options.get(spec.name, {})})
        for spec in plan.config.labelers
    ]


def make_finalizer(config: BuildConfig) -> Callable[[list], dict[str, Any]] | None:
    """The per-sample aggregator, if configured. A label model needs every sample's votes, so
    it runs in its own pass after the shards are written (`label_model_stage`)."""
    if not config.aggregate or label_model_stage.needs_label_model(config):
        return None
    from labelmill.labelers.aggregate import aggregator_from_config

    return aggregator_from_config(config.aggregate)


class BuildShardFn(beam.DoFn):
    """Builds whole shards; labelers are created and set up once per worker, on the first
    shard, because their run-time options (the harmonized mapping) arrive as a side input."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.labelers: list[Labeler] | None = None

    def setup(self) -> None:
        self.plan = load_plan(self.output)
        self.finalize = make_finalizer(self.plan.config)

    def process(self, index: int, run_options: RunOptions) -> Any:
        if self.labelers is None:
            self.labelers = make_labelers(self.plan, run_options)
            for labeler in self.labelers:
                labeler.setup()
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
    leftovers = [fs.glob(f"{out}/{sub}*.tmp-*") for sub in ("", "shards/", f"{WORK}/")]
    for leftover in sum(leftovers, []):
        fs.rm(leftover)
    todo = []
    for index in range(len(plan.shard_names)):
        marker_url, shard_url = plan.marker_url(index), plan.shard_url(index)
        if not (fs.exists(marker_url) and fs.exists(shard_url)):
            todo.append(index)
            continue
        marker = read_json(marker_url)
        if fs.size(shard_url) != marker["size"] or file_digest(shard_url) != marker["sha256"]:
            todo.append(index)
    return todo


class FinalizeShardFn(beam.DoFn):
    """The label-model pass: writes each shard's final records with the fitted model."""

    def __init__(self, output: str) -> None:
        self.output = output

    def setup(self) -> None:
        self.plan = load_plan(self.output)

    def process(self, index: int) -> Any:
        yield label_model_stage.finalize_shard(self.plan, index)["index"]


def _run_stage(
    name: str,
    fn: beam.DoFn,
    indices: list[int],
    beam_args: Sequence[str],
    side: Any = None,
) -> None:
    """One Beam job over shard ids: only ids travel; each worker reads and writes whole shards.
    `side`, when given, reaches every call of `fn` as a singleton side input."""
    pipeline = beam.Pipeline(options=pipeline_options(beam_args))
    ids = pipeline | f"{name}Ids" >> beam.Create(indices) | f"{name}Spread" >> beam.Reshuffle()
    if side is None:
        _ = ids | name >> beam.ParDo(fn)
    else:
        value = beam.pvalue.AsSingleton(pipeline | f"{name}Side" >> beam.Create([side]))
        _ = ids | name >> beam.ParDo(fn, value)
    pipeline.run().wait_until_finish()


def run(
    config: BuildConfig,
    beam_args: Sequence[str] = (),
    overwrite: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Build `config.input` into `config.output`; returns the run summary (also in run.json)."""
    started = time.time()
    check_build_filesystems(config)
    plan, manifest_rejects, run_options = make_plan(config, overwrite=overwrite)
    todo = pending_shards(plan)
    log.info("%d shards planned, %d to build", len(plan.shard_names), len(todo))
    if todo:
        with Progress(plan, todo, enabled=show_progress):
            shard_fn = BuildShardFn(config.output)
            _run_stage("BuildShards", shard_fn, todo, beam_args, side=run_options)
    if label_model_stage.needs_label_model(plan.config):
        markers = [read_json(plan.marker_url(i)) for i in range(len(plan.shard_names))]
        digest = label_model_stage.fit(plan, markers)
        refit = label_model_stage.pending(plan, digest)
        if refit:
            _run_stage("FinalLabels", FinalizeShardFn(config.output), refit, beam_args)
    return write_outputs(plan, manifest_rejects, time.time() - started, rebuilt=len(todo))
