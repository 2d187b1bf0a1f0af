"""The label-model pass: fit Dawid-Skene on every sample's votes, then give each shard its
final records.

A label model learns each source's accuracy from the whole dataset, so it can only be fitted
after every shard is labeled. The votes are small and sit in the shard markers; the launcher fits
on them, and a second Beam stage rewrites each shard's JSON members with the final records
(other members are copied byte for byte). A shard whose marker names the current model is
skipped, so a resumed build redoes only what changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from labelmill.fileio import join, read_json, write_json
from labelmill.labelers.aggregate import (
    aggregator_from_config,
    configured_labels,
    fit_label_model,
    mentioned,
)
from labelmill.manifests.write import label_columns
from labelmill.pipelines.plan import Plan
from labelmill.pipelines.shard_reader import iter_samples
from labelmill.pipelines.shards import open_shard
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import LabelRecord
from labelmill.schemas.sample import decode_sample_json, encode_sample_json
from labelmill.schemas.targets import target_classes, target_members

MODEL_FILE = "label_model.json"


def needs_label_model(config: BuildConfig) -> bool:
    """A label model aggregates in its own pass, after every shard is labeled."""
    return bool(config.aggregate) and config.aggregate.get("method") == "dawid-skene"


def row_records(row: dict[str, Any]) -> list[LabelRecord]:
    """The votes of one manifest row (labels and scores per source) as label records."""
    labels, scores = row["labels"], row["scores"]
    return [LabelRecord(source, labels[source], scores.get(source, {})) for source in labels]


def fit(plan: Plan, markers: list[dict[str, Any]]) -> str:
    """Fit the label model on every written sample; writes it to `_work/` and returns its hash."""
    per_sample = [row_records(row) for m in markers for row in m["samples"]]
    options = plan.config.aggregate or {}
    labels = configured_labels(options) or mentioned([r for rs in per_sample for r in rs])
    model = fit_label_model(per_sample, labels, options.get("uncertain", "ignore"))
    document = {"model": model.to_json(), "learned": model.describe()}
    digest = hashlib.sha256(json.dumps(document["model"], sort_keys=True).encode()).hexdigest()
    write_json(join(plan.work, MODEL_FILE), {**document, "sha256": digest})
    return digest


def pending(plan: Plan, digest: str) -> list[int]:
    """Shards whose final records were not written with this model."""
    return [
        i
        for i in range(len(plan.shard_names))
        if read_json(plan.marker_url(i)).get("label_model") != digest
    ]


def finalize_shard(plan: Plan, index: int) -> dict[str, Any]:
    """Rewrite shard `index` with every sample's final record; update and return its marker."""
    saved = read_json(join(plan.work, MODEL_FILE))
    finalize = aggregator_from_config({**(plan.config.aggregate or {}), "model": saved["model"]})
    marker = read_json(plan.marker_url(index))
    classes = target_classes(plan.config)
    rows = {row["key"]: row for row in marker["samples"]}
    url = plan.shard_url(index)
    with open_shard(url) as writer:
        for key, members in iter_samples(url):
            document = decode_sample_json(members["json"])
            records = [LabelRecord(**record) for record in document["records"]]
            document["final"] = finalize(records)
            members["json"] = encode_sample_json(document)
            members.update(target_members(records, document["final"], classes))
            sizes = writer.write(key, members)
            rows[key].update(
                member_sizes=list(sizes.values()),
                **label_columns(records, document["final"], classes),
            )
    marker.update(
        size=writer.size, sha256=writer.sha256, md5=writer.md5, label_model=saved["sha256"]
    )
    write_json(plan.marker_url(index), marker, indent=None)
    return marker


def learned(plan: Plan) -> dict[str, Any] | None:
    """What the model learned (per label and source), for run.json and the audit."""
    if not needs_label_model(plan.config):
        return None
    return read_json(join(plan.work, MODEL_FILE))["learned"]

