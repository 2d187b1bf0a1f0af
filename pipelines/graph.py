"""The build as one Beam graph: read, dedup, shards, build, fit, finalize, outputs.

    input units ─► read (one unit per worker) ─► [folder: reports joined by stem]
      ─► global row numbers (per-unit counts, side input)
      ─► key ─► GroupByKey(key): dedup ─► GroupByKey(shard) ─► BuildShardFn (tar + parts + marker)
      ─► [dawid-skene: CombineGlobally(vote counts) ─► fit ─► FinalizeShardFn]
      ─► CombineGlobally(per-shard stats) ─► index.json, run.json

Only small things are global: per-unit row counts, the read count, the image format, the
distinct manifest label strings (for harmonization), the vote-pattern counts and one stats entry
per shard. Rows travel only through the two shuffles.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from labelmill.labelers.base import Labeler, create
from labelmill.manifests import folder, parts
from labelmill.pipelines import label_model_stage as lm
from labelmill.pipelines.fingerprint import shard_fingerprint
from labelmill.pipelines.harmonize_stage import harmonize_labels, needs_harmonizing
from labelmill.pipelines.outputs import write_outputs
from labelmill.pipelines.plan import Plan, image_extension, is_jpeg, key_of, renumber, settle_key
from labelmill.pipelines.progress import Reporter
from labelmill.pipelines.shard_stage import (
    EXAMPLES_PER_REASON,
    ShardContext,
    build_shard,
    kept_marker,
)
from labelmill.schemas.records import InputRow, Reject


def _row(item: tuple[InputRow, str] | Reject) -> int:
    return item.row if isinstance(item, Reject) else item[0].row


class ImageFormat(beam.CombineFn):
    """The build's image extension: whether every kept row is a JPEG, and whether any is."""

    def __init__(self, image_format: str) -> None:
        self.image_format = image_format

    def create_accumulator(self) -> tuple[int, bool]:
        return 0, True

    def add_input(self, acc: tuple[int, bool], jpeg: bool) -> tuple[int, bool]:
        return acc[0] + 1, acc[1] and jpeg

    def merge_accumulators(self, accs: Any) -> tuple[int, bool]:
        accs = list(accs)
        return sum(a[0] for a in accs), all(a[1] for a in accs)

    def extract_output(self, acc: tuple[int, bool]) -> str:
        return image_extension(self.image_format, acc[1] and acc[0] > 0)


class VoteCountsFn(beam.CombineFn):
    """Adds the shards' vote-pattern counts (exact integer sums: the same on any runner)."""

    def create_accumulator(self) -> dict[str, Any]:
        return lm.VoteCounts().to_json()

    def add_input(self, acc: dict[str, Any], votes: dict[str, Any]) -> dict[str, Any]:
        return lm.VoteCounts.from_json(acc).merge(lm.VoteCounts.from_json(votes)).to_json()

    def merge_accumulators(self, accs: Any) -> dict[str, Any]:
        merged = lm.VoteCounts()
        for acc in accs:
            merged.merge(lm.VoteCounts.from_json(acc))
        return merged.to_json()

    def extract_output(self, acc: dict[str, Any]) -> dict[str, Any]:
        return acc


class BuildShardFn(beam.DoFn):
    """Builds whole shards, or keeps a finished one whose fingerprint still matches. Labelers
    are created once per worker, on the first shard that needs building, because their
    run-time options (the harmonized mapping) arrive as a side input."""

    def __init__(self, plan: Plan, verify_resume: bool) -> None:
        self.plan, self.verify_resume = plan, verify_resume
        self.labelers: list[Labeler] | None = None

    def setup(self) -> None:
        self.finalize = None
        aggregate = self.plan.config.aggregate
        if aggregate and not lm.needs_label_model(self.plan.config):
            from labelmill.labelers.aggregate import aggregator_from_config

            self.finalize = aggregator_from_config(aggregate)
        self.reporter = Reporter(self.plan)
        self.written = Metrics.counter("labelmill", "written")
        self.rejected = Metrics.counter("labelmill", "rejected")

    def report(self, written: int, rejected: int) -> None:
        self.written.inc(written)
        self.rejected.inc(rejected)
        self.reporter.add(written, rejected)

    def _labelers(self, run_options: dict[str, Any]) -> list[Labeler]:
        if self.labelers is None:
            self.labelers = [
                create(spec.name, {**spec.options, **run_options.get(spec.name, {})})
                for spec in self.plan.config.labelers
            ]
            for labeler in self.labelers:
                labeler.setup()
        return self.labelers

    def process(self, element: Any, image_ext: str, run_options: dict[str, Any]) -> Any:
        index, items = element
        ordered = sorted(items, key=_row)
        rows = [item for item in ordered if not isinstance(item, Reject)]
        rejects = [item for item in ordered if isinstance(item, Reject)]
        context = ShardContext(self.plan, image_ext, run_options)
        fingerprint = shard_fingerprint(context.digest, rows, rejects)
        marker = kept_marker(context, index, fingerprint, self.verify_resume)
        rebuilt = marker is None
        if marker is None:
            labelers = self._labelers(run_options)
            marker = build_shard(
                context, index, rows, rejects, labelers, self.finalize, self.report, fingerprint
            )
        else:
            self.report(marker["written"], marker["rejected"])
        self.reporter.flush()
        yield {**marker, "rebuilt": rebuilt}


class FinalizeShardFn(beam.DoFn):
    """The label-model pass: a shard's final records with the fitted model (skipped when its
    marker already names this model)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def process(self, marker: dict[str, Any], document: dict[str, Any]) -> Any:
        if marker["label_model"] == document["sha256"]:
            yield marker
            return
        stored = {k: v for k, v in marker.items() if k != "rebuilt"}
        yield {**lm.finalize_shard(self.plan, stored, document), "rebuilt": marker["rebuilt"]}


def _fit(counts: dict[str, Any], plan: Plan) -> dict[str, Any]:
    from labelmill.fileio import write_json

    document = lm.model_document(lm.VoteCounts.from_json(counts), plan.config)
    write_json(f"{plan.work}/{lm.MODEL_FILE}", document)
    return document


class FirstExamples(beam.CombineFn):
    """The first few rejects of each reason, by row, across all shards (capped, so small)."""

    def create_accumulator(self) -> dict[str, list[dict[str, Any]]]:
        return {}

    def add_input(self, acc: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
        return self.merge_accumulators([acc, examples])

    def merge_accumulators(self, accs: Any) -> dict[str, list[dict[str, Any]]]:
        merged: dict[str, list[dict[str, Any]]] = {}
        for acc in accs:
            for reason, found in acc.items():
                merged.setdefault(reason, []).extend(found)
        return {
            reason: sorted(found, key=lambda r: r["row"])[:EXAMPLES_PER_REASON]
            for reason, found in sorted(merged.items())
        }

    def extract_output(self, acc: dict[str, Any]) -> dict[str, Any]:
        return acc


SMALL_STATS = ("index", "tars", "written", "rejected", "rejected_by_reason", "rebuilt")


def _stats(marker: dict[str, Any]) -> dict[str, Any]:
    """What run.json needs of each shard (a few hundred bytes): what is the same in every
    shard (labelers) or capped across shards (examples) travels apart."""
    return {k: marker[k] for k in SMALL_STATS}


def read_rows(pipeline: beam.Pipeline, plan: Plan) -> beam.PCollection:
    """Every input row and row-level reject, numbered by global row."""
    config = plan.config
    encoding, columns, sep = config.manifest_encoding, config.columns, config.sep
    local = (
        pipeline
        | "Inputs" >> beam.Create(list(plan.units))
        | "SpreadFiles" >> beam.Reshuffle()  # Parquet footers and folder listings in parallel
        | "SplitInputs" >> beam.FlatMap(parts.split_unit)
        | "SpreadInputs" >> beam.Reshuffle()
        | "Read"
        >> beam.FlatMap(
            lambda u: ((u.key, item) for item in parts.read_unit(u, encoding, columns, sep))
        )
    )
    if plan.units and plan.units[0].kind == parts.FOLDER:
        root = folder.folder_root(plan.units[0].url)
        if folder.has_tree(root, folder.REPORTS):
            local = _with_reports(pipeline, root, local)
    offsets = (
        local
        | "UnitRows" >> beam.Map(lambda e: (e[0], e[1].row))
        | "RowsPerUnit" >> beam.CombinePerKey(max)
        | "Counts" >> beam.combiners.ToDict()
        | "Offsets" >> beam.Map(parts.offsets)
    )
    return local | "Number" >> beam.Map(
        lambda e, off: renumber(e[1], off[e[0]]), beam.pvalue.AsSingleton(offsets)
    )


def _with_reports(pipeline: beam.Pipeline, root: str, images: beam.PCollection) -> beam.PCollection:
    """A folder's image rows, each given the report of its stem: `reports/` listed in parts
    as `images/` is, one report per stem, joined by stem (a shuffle: no worker holds a list)."""
    reports = (
        pipeline
        | "ReportsRoot" >> beam.Create([root])
        | "ReportParts"
        >> beam.FlatMap(lambda r: (part for _, part in folder.top_parts(r, folder.REPORTS)))
        | "SpreadReportParts" >> beam.Reshuffle()
        | "ListReports" >> beam.FlatMap(lambda p: folder.report_paths(root, p))
        | "LastReport" >> beam.CombinePerKey(folder.last_report)
    )
    by_stem = images | "ByStem" >> beam.Map(lambda e: (e[1].id, e))
    return (
        {folder.IMAGES: by_stem, folder.REPORTS: reports}
        | "MatchReports" >> beam.CoGroupByKey()
        | "WithReports" >> beam.FlatMap(folder.with_report)
    )


def build_graph(
    pipeline: beam.Pipeline, plan: Plan, verify_resume: bool = False, started: float = 0.0
) -> None:
    """Add the whole build to `pipeline`."""
    config = plan.config
    rows = read_rows(pipeline, plan)
    plan = replace(plan, units=())  # what workers carry: the input list was only for reading
    read = rows | "CountRead" >> beam.combiners.Count.Globally()
    keyed = rows | "Key" >> beam.Map(key_of)
    early, pairs = keyed | "SplitRejects" >> beam.Partition(
        lambda item, _: 0 if isinstance(item, Reject) else 1, 2
    )
    settled = pairs | "ByKey" >> beam.GroupByKey() | "Dedup" >> beam.FlatMapTuple(settle_key)
    kept = settled | "Kept" >> beam.Filter(lambda item: not isinstance(item, Reject))
    image_ext = (
        kept
        | "IsJpeg" >> beam.Map(lambda item: is_jpeg(item[0]))
        | "ImageFormat" >> beam.CombineGlobally(ImageFormat(config.image_format))
    )
    if needs_harmonizing(config):
        run_options = (
            kept
            | "LabelStrings" >> beam.FlatMap(lambda item: item[0].labels)
            | "Distinct" >> beam.Distinct()
            | "AllStrings" >> beam.combiners.ToList()
            | "Harmonize" >> beam.Map(lambda s: harmonize_labels(config, s, plan.work))
        )
    else:
        run_options = pipeline | "NoRunOptions" >> beam.Create([{}])
    markers = (
        (early, settled)
        | "AllItems" >> beam.Flatten()
        | "ToShard" >> beam.Map(lambda item: (plan.shard_of(_row(item)), item))
        | "ByShard" >> beam.GroupByKey()
        | "BuildShards"
        >> beam.ParDo(
            BuildShardFn(plan, verify_resume),
            beam.pvalue.AsSingleton(image_ext),
            beam.pvalue.AsSingleton(run_options),
        )
    )
    model = None
    if lm.needs_label_model(config):
        model = (
            markers
            | "Votes" >> beam.Map(lambda m: m["votes"])
            | "CountVotes" >> beam.CombineGlobally(VoteCountsFn())
            | "Fit" >> beam.Map(_fit, plan)
        )
        markers = markers | "FinalLabels" >> beam.ParDo(
            FinalizeShardFn(plan), beam.pvalue.AsSingleton(model)
        )
    model_side = beam.pvalue.AsSingleton(model) if model is not None else None
    examples = markers | "Examples" >> beam.Map(lambda m: m["reject_examples"])
    labelers = (
        markers
        | "Labelers" >> beam.Map(lambda m: json.dumps(m["labelers"], sort_keys=True))
        | "DistinctLabelers" >> beam.Distinct()
        | "AllLabelers" >> beam.combiners.ToList()
    )
    facts = {
        "read": beam.pvalue.AsSingleton(read),
        "image_ext": beam.pvalue.AsSingleton(image_ext),
        "examples": beam.pvalue.AsSingleton(examples | beam.CombineGlobally(FirstExamples())),
        "labelers": beam.pvalue.AsSingleton(labelers),
        "model": model_side,
        "started": started,
    }
    _ = (
        markers
        | "Stats" >> beam.Map(_stats)
        | "AllStats" >> beam.combiners.ToList()
        | "Outputs" >> beam.Map(write_outputs, plan, **facts)
    )
