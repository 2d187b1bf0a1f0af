"""Every number of the audit, from one streaming pass over a build folder.

Each section is an object with `add(sample, votes)` and `result()`; one pass over the shards
feeds them all, so a build is read once however many sections there are.
"""

from __future__ import annotations

from typing import Any, Protocol

from labelmill.audit.aggregation import Aggregation
from labelmill.audit.distribution import Distribution
from labelmill.audit.gold import Gold, GoldMetrics
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
from labelmill.audit.suspects import Suspects
from labelmill.audit.votes import FINAL, Votes, sample_votes

SCHEMA_VERSION = 1


class Section(Protocol):
    def add(self, sample: ShardSample, votes: Votes) -> None: ...

    def result(self) -> dict[str, Any]: ...


def compute(build_dir: str, gold: Gold | None = None) -> tuple[dict[str, Any], list[MapItem]]:
    """The metrics of `build_dir` (metrics.json) and the label-map gallery samples."""
    run = read_run(build_dir)
    maps = LabelMaps(run)
    sections: dict[str, Section] = {
        "distribution": Distribution(),
        "labelers": Labelers(gold),
        "report_mining": Mining(),
        "harmonization": Harmonization(run, read_harmonize(build_dir, run)),
        "aggregation": Aggregation(gold),
        "label_maps": maps,
        "suspects": Suspects(),
    }
    if gold is not None:
        sections["gold"] = GoldMetrics(gold)

    def keep(suffix: str) -> bool:
        return suffix == "txt" or maps.wants(suffix)

    urls = shard_urls(build_dir, run)
    if not run and not urls:
        raise FileNotFoundError(f"{build_dir}: not a build folder (no run.json, no shards/*.tar)")
    streamed = 0
    for url in urls:
        for sample in iter_samples(url, keep):
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
    metrics["summary"] = summary(metrics)
    return metrics, maps.gallery


def summary(m: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers and which sections have data, for the top of the page."""
    sources = sorted(s for s in m["distribution"]["sources"] if s != FINAL)
    kappas = [p["kappa"] for p in m["labelers"]["pairs"] if p["kappa"] is not None]
    labels = {label for s in m["distribution"]["sources"].values() for label in s["labels"]}
    counts = m["provenance"]["counts"]
    return {
        "samples": m["distribution"]["samples"],
        "read": counts["read"],
        "rejected": counts["rejected"],
        "sources": sources,
        "labels": len(labels),
        "final": FINAL in m["distribution"]["sources"],
        "mean_pairwise_kappa": round(sum(kappas) / len(kappas), 6) if kappas else None,
        "samples_with_conflict": m["suspects"]["samples_with_conflict"],
        "gold_matched": m["gold"]["matched"] if m["gold"] else None,
        "sections": {
            "provenance": m["provenance"]["run_json"],
            "distribution": bool(m["distribution"]["samples"]),
            "labelers": bool(sources),
            "report_mining": bool(m["report_mining"]["sources"]),
            "harmonization": m["harmonization"]["harmonized"],
            "aggregation": bool(m["aggregation"]["samples_with_final"]),
            "gold": m["gold"] is not None,
            "label_maps": bool(m["label_maps"]["samples_with_maps"]),
            "suspects": len(sources) > 1,
        },
    }
