"""Every number of the audit, from one streaming pass over a build folder.

Each section is an object with `add(sample, votes)` and `result()`; one pass over the shards
feeds them all, so a build is read once however many sections there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from labelmill.audit.accuracy import SourceAccuracy
from labelmill.audit.aggregation import Aggregation
from labelmill.audit.distribution import Distribution
from labelmill.audit.families import families
from labelmill.audit.gold import Gold, GoldMetrics
from labelmill.audit.gold_names import harmonize_gold
from labelmill.audit.harmonization import Harmonization
from labelmill.audit.labelers import Labelers
from labelmill.audit.labelmaps import LabelMaps, MapItem
from labelmill.audit.mining import Mining
from labelmill.audit.provenance import provenance
from labelmill.audit.read import (
    ShardSample,
    iter_samples,
    read_harmonize,
    read_rejects,
    read_run,
    shard_urls,
)
from labelmill.audit.slices import Slices
from labelmill.audit.stats import flag_low_support
from labelmill.audit.suspects import EXPORT, TOP, Suspects
from labelmill.audit.votes import FINAL, Votes, sample_votes

SCHEMA_VERSION = 2
MIN_SUPPORT = 20


@dataclass(frozen=True)
class AuditConfig:
    """What an audit shows: rates on fewer than `min_support` samples are flagged; `slice_by`
    names metadata columns; `suspects` is how many rows suspects.csv gets (the page shows TOP)."""

    min_support: int = MIN_SUPPORT
    slice_by: tuple[str, ...] = ()
    suspects: int = EXPORT


@dataclass
class Media:
    """What the page needs beside the numbers: label-map gallery pixels, suspect thumbnails,
    and the suspects.csv rows."""

    gallery: list[MapItem] = field(default_factory=list)
    thumbs: dict[str, dict[str, str]] = field(default_factory=dict)
    suspect_rows: list[dict[str, Any]] = field(default_factory=list)


class Section(Protocol):
    def add(self, sample: ShardSample, votes: Votes) -> None: ...

    def result(self) -> dict[str, Any]: ...


def compute(
    build_dir: str, gold: Gold | None = None, config: AuditConfig | None = None
) -> tuple[dict[str, Any], Media]:
    """The metrics of `build_dir` (metrics.json) and the media the page embeds."""
    config = config or AuditConfig()
    run = read_run(build_dir)
    gold_mapping = None
    if gold is not None:
        gold, gold_mapping = harmonize_gold(gold, run)
    maps = LabelMaps(run)
    suspects = Suspects(TOP, config.suspects)
    mining = Mining()
    sections: dict[str, Section] = {
        "distribution": Distribution(),
        "labelers": Labelers(gold),
        "report_mining": mining,
        "harmonization": Harmonization(run, read_harmonize(build_dir, run)),
        "aggregation": Aggregation(gold),
        "source_accuracy": SourceAccuracy(run, gold),
        "label_maps": maps,
        "suspects": suspects,
        "slices": Slices(config.slice_by, gold),
    }
    if gold is not None:
        sections["gold"] = GoldMetrics(gold)

    urls = shard_urls(build_dir, run)
    if not run and not urls:
        raise FileNotFoundError(f"{build_dir}: not a build folder (no run.json, no shards/*.tar)")
    streamed = 0
    for url in urls:
        for sample in iter_samples(url):
            streamed += 1
            votes = sample_votes(sample.doc)
            for section in sections.values():
                section.add(sample, votes)
    metrics: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "build": build_dir,
        "provenance": provenance(run, read_rejects(build_dir), streamed),
        **{name: section.result() for name, section in sections.items()},
    }
    if gold is None:
        metrics["gold"] = None
    else:
        metrics["gold"]["mapping"] = gold_mapping
    metrics["families"] = families(run, metrics["distribution"], mining.mined)
    metrics["summary"] = summary(metrics, config)
    flag_low_support(metrics, config.min_support)
    media = Media(maps.gallery, suspects.thumbs, suspects.csv_rows())
    return metrics, media


def summary(m: dict[str, Any], config: AuditConfig) -> dict[str, Any]:
    """The headline numbers and which sections have data, for the top of the page."""
    sources = sorted(s for s in m["distribution"]["sources"] if s != FINAL)
    pairs = m["labelers"]["pairs"]
    kappas = [p["kappa"] for p in pairs if p["kappa"] is not None]
    counts = m["provenance"]["counts"]
    return {
        "samples": m["distribution"]["samples"],
        "read": counts["read"],
        "rejected": counts["rejected"],
        "reject_rate": counts["reject_rate"],
        "sources": sources,
        "labels": m["families"]["counts"],
        "final": FINAL in m["distribution"]["sources"],
        "mean_pairwise_kappa": round(sum(kappas) / len(kappas), 6) if kappas else None,
        "kappa_pairs": {"defined": len(kappas), "pairs": len(pairs)},
        "kappa_na": kappa_reason(pairs, len(sources)) if not kappas else None,
        "agreement": m["labelers"]["agreement"],
        "samples_with_conflict": m["suspects"]["samples_with_conflict"],
        "conflict_rate": m["suspects"]["conflict_rate"],
        "gold_matched": m["gold"]["matched"] if m["gold"] else None,
        "min_support": config.min_support,
        "slice_by": list(config.slice_by),
        "sections": {
            "provenance": m["provenance"]["run_json"],
            "distribution": bool(m["distribution"]["samples"]),
            "labelers": bool(sources),
            "report_mining": bool(m["report_mining"]["sources"]),
            "harmonization": m["harmonization"]["harmonized"],
            "aggregation": bool(m["aggregation"]["samples_with_final"]),
            "source_accuracy": bool(m["source_accuracy"]["rows"]),
            "gold": m["gold"] is not None,
            "slices": bool(m["slices"]["columns"]),
            "label_maps": bool(m["label_maps"]["samples_with_maps"]),
            "suspects": bool(m["suspects"]["top"]),
        },
    }


def kappa_reason(pairs: list[dict[str, Any]], sources: int) -> str:
    """Why no pair has a kappa: fewer than two labelers, no shared cells, or constant votes."""
    if sources < 2:
        return "fewer than two labelers"
    if not pairs:
        return "no two labelers vote on the same label of a sample"
    reasons = sorted({p["kappa_na"] for p in pairs if p["kappa_na"]})
    return "; ".join(reasons)
