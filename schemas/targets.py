"""The training target beside each sample: `{key}.labels.npy`, and `classes.json` at the root.

`classes` is the build's final label set, decided by the config alone (so every shard agrees
and a worker needs nothing else): the aggregation's labels, else the harmonization ontology's,
else the report ontology's; a build with none of them has no target member. Each value is a
float32: the aggregator's probability when the build aggregates; otherwise 1 (some source says
present), -1 (uncertain, and no source says present) or 0 (absent, or not mentioned: the
CheXpert convention for blanks). With aggregation the uncertain policy (`--uncertain`) has
already decided what -1 votes mean, so the values lie in [0, 1].
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from labelmill.fileio import join, write_json
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import POSITIVE, UNCERTAIN, LabelRecord

TARGET = "labels"  # the member is {key}.labels.npy
CLASSES_FILE = "classes.json"


def target_classes(config: BuildConfig) -> list[str]:
    """The build's final label set, in order ([] when the config names none)."""
    from labelmill.labelers.aggregate import configured_labels
    from labelmill.schemas.ontology import load_ontology

    fixed = configured_labels(config.aggregate or {})
    if fixed:
        return fixed
    if config.harmonize and config.harmonize.get("ontology"):
        return load_ontology(config.harmonize["ontology"]).labels
    for spec in config.labelers:
        if spec.name == "reports":
            return load_ontology(spec.options.get("ontology", "chestxray14")).labels
    return []


def target_vector(
    records: Sequence[LabelRecord], final: dict[str, Any] | None, classes: Sequence[str]
) -> np.ndarray:
    """One float32 per class (see the module docstring for what the values mean)."""
    if final:
        scores, labels = final.get("scores", {}), final.get("labels", {})
        values = [float(scores.get(c, labels.get(c, 0.0))) for c in classes]
        return np.asarray(values, dtype=np.float32)
    out = np.zeros(len(classes), dtype=np.float32)
    position = {c: i for i, c in enumerate(classes)}
    for record in records:
        for label, value in record.labels.items():
            i = position.get(label)
            if i is None or out[i] == POSITIVE:
                continue
            if value == POSITIVE or (value == UNCERTAIN and out[i] == 0.0):
                out[i] = float(value)
    return out


def target_members(
    records: Sequence[LabelRecord], final: dict[str, Any] | None, classes: Sequence[str]
) -> dict[str, bytes]:
    """`{"labels.npy": bytes}`, or {} for a build without a label set."""
    if not classes:
        return {}
    buffer = io.BytesIO()
    np.save(buffer, target_vector(records, final, classes), allow_pickle=False)
    return {f"{TARGET}.npy": buffer.getvalue()}


def write_classes(output: str, classes: Sequence[str]) -> None:
    """`classes.json`: the position of each label in every `{key}.labels.npy`."""
    write_json(join(output, CLASSES_FILE), {"classes": list(classes), "member": f"{TARGET}.npy"})
