"""Votes from records, the uncertain policies, and abstain-aware majority vote."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelmill.labelers.aggregate import ERROR, aggregate, aggregator_from_config
from labelmill.labelers.aggregate.votes import apply_policy, sample_votes, vote
from labelmill.schemas.records import LabelRecord

RECORDS = [
    LabelRecord("reports/chexpert", labels={"Edema": 1, "Effusion": -1, "Pneumonia": 0}),
    LabelRecord("manifest", labels={"Edema": 1}),
    LabelRecord("image_model", scores={"Edema": 0.2, "Effusion": 0.5, "Pneumonia": 0.49}),
    LabelRecord("image_model", scores={"Edema": 0.9}),  # a second record of the same source
    LabelRecord("reports/other", labels={"Edema": 0}, meta={"error": "timeout"}),
]
LABELS = ["Edema", "Effusion", "Pneumonia", "Pneumothorax"]


def test_votes_keep_abstain_uncertain_and_error_apart():
    votes = sample_votes(RECORDS, LABELS)
    assert votes["Edema"] == {
        "reports/chexpert": 1,
        "manifest": 1,
        "image_model": 0,
        "image_model#2": 1,
        "reports/other": ERROR,
    }
    assert votes["Effusion"]["reports/chexpert"] == -1
    assert votes["Effusion"]["image_model"] == 1  # a score of 0.5 is a positive vote
    assert votes["Effusion"]["manifest"] is None  # silent: abstains
    assert votes["Pneumonia"]["image_model"] == 0
    assert vote(LabelRecord("m", scores={"Edema": math.nan}), "Edema") == ERROR
    assert vote(LabelRecord("m", labels={"Edema": 2}), "Edema") == ERROR


@pytest.mark.parametrize(
    ("uncertain", "effusion"),
    [("ignore", 1.0), ("zero", 0.5), ("one", 1.0)],
)
def test_majority_with_each_uncertain_policy(uncertain: str, effusion: float):
    final = aggregate(RECORDS, LABELS, method="majority", uncertain=uncertain)
    assert final.source == "aggregate/majority"
    assert final.scores["Edema"] == pytest.approx(3 / 4)  # the error is not a vote
    assert final.scores["Effusion"] == pytest.approx(effusion)
    assert final.scores["Pneumonia"] == 0.0
    assert "Pneumothorax" not in final.labels  # nobody voted: no final label
    assert final.labels == {"Edema": 1, "Effusion": 1, "Pneumonia": 0}
    assert final.meta["votes"]["Edema"]["reports/other"] == ERROR
    assert final.meta["uncertain"] == uncertain


def test_only_uncertain_votes_under_ignore_leave_the_label_open():
    records = [LabelRecord("a", labels={"Edema": -1})]
    assert aggregate(records, ["Edema"], uncertain="ignore").labels == {}
    assert aggregate(records, ["Edema"], uncertain="one").labels == {"Edema": 1}


def test_apply_policy_and_bad_values():
    votes = np.array([[1, 0, -1, np.nan]])
    assert np.array_equal(apply_policy(votes, "zero"), [[1, 0, 0, np.nan]], equal_nan=True)
    assert np.isnan(apply_policy(votes, "ignore")[0, 2])
    with pytest.raises(ValueError, match="votes must be"):
        apply_policy(np.array([[2.0]]), "ignore")
    with pytest.raises(ValueError, match="uncertain must be"):
        aggregate(RECORDS, LABELS, uncertain="maybe")
    with pytest.raises(ValueError, match="method must be"):
        aggregate(RECORDS, LABELS, method="mode")


def test_finalizer_from_build_config_is_json():
    finalize = aggregator_from_config({"method": "majority", "uncertain": "zero"})
    final = finalize(RECORDS)
    assert final["source"] == "aggregate/majority"
    assert set(final["labels"]) == {"Edema", "Effusion", "Pneumonia"}  # labels the records name
    assert final["scores"]["Effusion"] == 0.5
    with pytest.raises(ValueError, match="needs aggregate.model"):
        aggregator_from_config({"method": "dawid-skene"})


def test_votes_in_another_ontology_count_through_the_crosswalk():
    labels = ["Effusion", "Pneumothorax", "Infiltration", "Mass"]
    chexpert = LabelRecord("reports", labels={"Pleural Effusion": 0, "Pneumothorax": 1})
    padchest = LabelRecord(
        "manifest",
        labels={"hydropneumothorax": 1, "interstitial pattern": 0, "pulmonary mass": -1},
    )
    own = LabelRecord("image", scores={"Pleural Effusion": 0.9, "Effusion": 0.2})
    votes = sample_votes([chexpert, padchest, own], labels)
    assert votes["Effusion"] == {"reports": 0, "manifest": 1, "image": 1}
    assert votes["Pneumothorax"] == {"reports": 1, "manifest": 1, "image": None}
    # A finer finding's absence says nothing of the broader one; its uncertainty carries up.
    assert votes["Infiltration"]["manifest"] is None
    assert votes["Mass"]["manifest"] == -1
    final = aggregate([chexpert, padchest], labels, "majority", "ignore")
    assert final.labels["Pneumothorax"] == 1


def test_an_errored_record_stays_an_error_through_the_crosswalk():
    broken = LabelRecord("reports", labels={"Pleural Effusion": 1}, meta={"error": "boom"})
    assert sample_votes([broken], ["Effusion"])["Effusion"] == {"reports": "error"}
