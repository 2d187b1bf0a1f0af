"""The training target: which labels, and the value of each."""

from __future__ import annotations

import io

import numpy as np

from labelmill.schemas.config import BuildConfig, LabelerSpec
from labelmill.schemas.ontology import load_ontology
from labelmill.schemas.records import LabelRecord
from labelmill.schemas.targets import target_classes, target_members, target_vector


def config(**options) -> BuildConfig:
    return BuildConfig(input="m.csv", output="out", **options)


def test_classes_follow_aggregation_then_harmonize_then_reports() -> None:
    reports = (LabelerSpec("manifest_labels"), LabelerSpec("reports", {"ontology": "chexpert"}))
    assert target_classes(config()) == []
    assert target_classes(config(labelers=reports)) == load_ontology("chexpert").labels
    harmonized = config(labelers=reports, harmonize={"ontology": "chestxray14"})
    assert target_classes(harmonized) == load_ontology("chestxray14").labels
    fixed = config(labelers=reports, aggregate={"labels": ["Edema", "Mass"]})
    assert target_classes(fixed) == ["Edema", "Mass"]


def test_values_without_aggregation_combine_positive_over_uncertain_over_negative() -> None:
    classes = ["A", "B", "C", "D"]
    records = [
        LabelRecord("one", labels={"A": 0, "B": -1, "C": 0}),
        LabelRecord("two", labels={"A": 1, "B": 0, "other": 1}),
    ]
    vector = target_vector(records, None, classes)
    assert vector.dtype == np.float32 and vector.tolist() == [1.0, -1.0, 0.0, 0.0]


def test_values_with_aggregation_are_its_probabilities() -> None:
    final = {"labels": {"A": 1, "B": 0}, "scores": {"A": 0.75, "B": 0.25}}
    assert target_vector([], final, ["A", "B", "C"]).tolist() == [0.75, 0.25, 0.0]


def test_member_is_a_plain_npy_or_absent() -> None:
    members = target_members([LabelRecord("s", labels={"A": 1})], None, ["A", "B"])
    array = np.load(io.BytesIO(members["labels.npy"]), allow_pickle=False)
    assert array.tolist() == [1.0, 0.0] and array.dtype == np.float32
    assert target_members([], None, []) == {}
