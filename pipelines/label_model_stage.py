"""The label-model pass: fit Dawid-Skene on every sample's votes, then give each shard its
final records.

Dawid-Skene's E-step gives every sample with the same votes on a label the same posterior, so
the counts of distinct vote patterns per label are sufficient statistics for the whole EM, not
just one step. Each shard counts its patterns while it is built (`VoteCounts`, kept in its
marker); a Beam combine adds the counts of all shards (exact integer sums, so the fit is the same
on any runner), and EM runs on the weighted patterns: at most `labels x 4^sources` rows, however
many samples there are. A second parallel pass rewrites each shard's JSON members with the final
records; every other member is copied byte for byte, never decoded. A shard whose marker names
the current model is skipped, so a resumed build redoes only what changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import fsspec
import numpy as np
import pyarrow.parquet as pq

from labelmill.fileio import write_json
from labelmill.labelers.aggregate import aggregator_from_config, configured_labels
from labelmill.labelers.aggregate.dawid_skene import DawidSkene
from labelmill.labelers.aggregate.label_model import LabelModel
from labelmill.labelers.aggregate.votes import (
    apply_policy,
    as_number,
    check_policy,
    sample_votes,
    source_names,
)
from labelmill.manifests.write import label_columns, manifest_schema, write_parquet
from labelmill.pipelines.shard_reader import iter_samples
from labelmill.pipelines.shards import open_shard
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import LabelRecord
from labelmill.schemas.sample import decode_sample_json, encode_sample_json
from labelmill.schemas.targets import target_classes, target_members

if TYPE_CHECKING:
    from labelmill.pipelines.plan import Plan

MODEL_FILE = "label_model.json"


def needs_label_model(config: BuildConfig) -> bool:
    """A label model aggregates in its own pass, after every shard is labeled."""
    return bool(config.aggregate) and config.aggregate.get("method") == "dawid-skene"


class VoteCounts:
    """Per label, how many samples cast each vote pattern; plus every source and label seen.

    A pattern is the sorted (source, vote) pairs of the sources that voted 1, 0 or -1."""

    def __init__(self, labels: Sequence[str] | None = None) -> None:
        self.fixed = list(labels) if labels else None
        self.sources: set[str] = set()
        self.labels: set[str] = set()
        self.patterns: dict[str, Counter[str]] = {}

    @classmethod
    def for_config(cls, aggregate: dict[str, Any] | None) -> VoteCounts:
        return cls(_configured_labels(json.dumps(aggregate or {}, sort_keys=True)))

    def add(self, records: Sequence[LabelRecord]) -> None:
        self.sources.update(source_names(records))
        mentioned = {k for r in records for k in (*r.labels, *r.scores)}
        self.labels.update(mentioned)
        targets = self.fixed or sorted(mentioned)
        for label, by_source in sample_votes(records, targets).items():
            cast = [(s, as_number(v)) for s, v in sorted(by_source.items())]
            pattern = [[s, int(v)] for s, v in cast if not np.isnan(v)]
            if pattern:
                counts = self.patterns.setdefault(label, Counter())
                counts[json.dumps(pattern)] += 1

    def merge(self, other: VoteCounts) -> VoteCounts:
        self.fixed = self.fixed or other.fixed
        self.sources |= other.sources
        self.labels |= other.labels
        for label, counts in other.patterns.items():
            self.patterns.setdefault(label, Counter()).update(counts)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "fixed": self.fixed,
            "sources": sorted(self.sources),
            "labels": sorted(self.labels),
            "patterns": {k: dict(sorted(v.items())) for k, v in sorted(self.patterns.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoteCounts:
        counts = cls(data["fixed"])
        counts.sources, counts.labels = set(data["sources"]), set(data["labels"])
        counts.patterns = {k: Counter(v) for k, v in data["patterns"].items()}
        return counts

    def fit(self, uncertain: str = "ignore") -> LabelModel:
        """One weighted Dawid-Skene per label, on the distinct patterns in sorted order."""
        check_policy(uncertain)
        labels = tuple(self.fixed or sorted(self.labels))
        sources = tuple(sorted(self.sources))
        column = {s: j for j, s in enumerate(sources)}
        model = LabelModel(labels, sources, uncertain, {})
        for label in labels:
            counts = self.patterns.get(label, {})
            patterns = sorted(counts)
            matrix = np.full((len(patterns), len(sources)), np.nan)
            for i, pattern in enumerate(patterns):
                for source, value in json.loads(pattern):
                    matrix[i, column[source]] = value
            weights = np.array([counts[p] for p in patterns], dtype=float)
            if len(patterns) and not np.isnan(apply_policy(matrix, uncertain)).all():
                model.models[label] = DawidSkene(uncertain).fit(matrix, weights)
        return model


def model_document(counts: VoteCounts, config: BuildConfig) -> dict[str, Any]:
    """The fitted model, what it learned, and its hash (which finalized shards record)."""
    model = counts.fit((config.aggregate or {}).get("uncertain", "ignore"))
    payload = model.to_json()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return {"model": payload, "learned": model.describe(), "sha256": digest}


@functools.lru_cache(maxsize=4)
def _configured_labels(aggregate: str) -> tuple[str, ...] | None:
    """The aggregate's labels, read once per worker (an ontology is a YAML file to parse)."""
    labels = configured_labels(json.loads(aggregate))
    return tuple(labels) if labels else None


_FINALIZERS: dict[str, Any] = {}


def finalizer(config: BuildConfig, document: dict[str, Any]) -> Any:
    """records -> final record, with the fitted model; made once per worker and model, so
    the ontology is read and each vote pattern's posterior computed once."""
    key = f"{json.dumps(config.aggregate, sort_keys=True)}\n{document['sha256']}"
    if key not in _FINALIZERS:
        options = {**(config.aggregate or {}), "model": document["model"]}
        _FINALIZERS.clear()  # one model at a time
        _FINALIZERS[key] = aggregator_from_config(options)
    return _FINALIZERS[key]


def finalize_shard(plan: Plan, marker: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite one shard's tars with every sample's final record, and its manifest part; update
    and return its marker. Idempotent: a finalized shard can be finalized again."""
    finalize = finalizer(plan.config, document)
    classes = target_classes(plan.config)
    part = plan.part_url("manifest", marker["index"])
    with fsspec.open(part, "rb") as fh:
        rows = {row["key"]: row for row in pq.read_table(fh).to_pylist()}
    tars = []
    for tar in marker["tars"]:
        url = f"{plan.config.output}/{tar['shard']}"
        with open_shard(url) as writer:
            for key, members in iter_samples(url):
                sample = decode_sample_json(members["json"])
                records = [LabelRecord(**r) for r in sample["records"]]
                sample["final"] = finalize(records)
                members["json"] = encode_sample_json(sample)
                members.update(target_members(records, sample["final"], classes))
                sizes = writer.write(key, members)
                rows[key].update(
                    member_sizes=list(sizes.values()),
                    **label_columns(records, sample["final"], classes),
                )
        tars.append({**tar, "size": writer.size, "sha256": writer.sha256, "md5": writer.md5})
    write_parquet(part, list(rows.values()), manifest_schema(classes))
    marker = {**marker, "tars": tars, "label_model": document["sha256"]}
    write_json(plan.marker_url(marker["index"]), marker, indent=None)
    return marker
