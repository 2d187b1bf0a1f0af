"""Combine every labeler's votes into final labels and probabilities per sample.

Two methods: abstain-aware majority vote (`aggregate(..., method="majority")`) and a label model
that learns each source's quality without gold labels (`fit_label_model`, Dawid-Skene per label).
Uncertain votes follow the CheXpert policies: ignore them, read them as 0, or as 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from labelmill.labelers.aggregate.dawid_skene import DawidSkene
from labelmill.labelers.aggregate.label_model import LabelModel, fit_label_model
from labelmill.labelers.aggregate.majority import majority
from labelmill.labelers.aggregate.votes import ABSTAIN, ERROR, POLICIES, check_policy
from labelmill.schemas.records import LabelRecord

METHODS = ("majority", "dawid-skene")

__all__ = [
    "ABSTAIN",
    "ERROR",
    "METHODS",
    "POLICIES",
    "DawidSkene",
    "LabelModel",
    "aggregate",
    "aggregator_from_config",
    "configured_labels",
    "fit_label_model",
]


def aggregate(
    records: Sequence[LabelRecord],
    labels: Sequence[str],
    method: str = "majority",
    uncertain: str = "ignore",
    model: LabelModel | None = None,
) -> LabelRecord:
    """One sample's final record. "dawid-skene" needs the `model` fitted on all samples."""
    check_policy(uncertain)
    if method == "majority":
        return majority(records, labels, uncertain)
    if method == "dawid-skene":
        if model is None:
            raise ValueError("dawid-skene needs a LabelModel from fit_label_model(all samples)")
        return model.aggregate(records)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")


def aggregator_from_config(config: dict[str, Any]) -> Callable[[list[LabelRecord]], dict]:
    """The build's finalizer: records -> final record as JSON.

    Config keys: `method` (majority | dawid-skene), `uncertain` (ignore | zero | one), `labels`
    or `ontology` (default: every label any record mentions), and for dawid-skene `model`, the
    fitted `LabelModel.to_json()`.
    """
    method = config.get("method", "majority")
    uncertain = check_policy(config.get("uncertain", "ignore"))
    fixed = configured_labels(config)
    model = LabelModel.from_json(config["model"]) if config.get("model") else None
    if method == "dawid-skene" and model is None:
        raise ValueError("aggregate.method dawid-skene needs aggregate.model (fit_label_model)")

    def finalize(records: list[LabelRecord]) -> dict:
        labels = fixed or (model.labels if model else mentioned(records))
        return aggregate(records, labels, method, uncertain, model).to_json()

    return finalize


def configured_labels(config: dict[str, Any]) -> list[str] | None:
    """The labels to aggregate: `labels` as listed, or every label of `ontology`."""
    if config.get("labels"):
        return list(config["labels"])
    if config.get("ontology"):
        from labelmill.schemas.ontology import load_ontology

        return load_ontology(config["ontology"]).labels
    return None


def mentioned(records: Sequence[LabelRecord]) -> list[str]:
    """Every label any record votes on, in first-seen order."""
    return list(dict.fromkeys(k for r in records for k in (*r.labels, *r.scores)))
