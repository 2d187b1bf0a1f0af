"""Dawid-Skene on simulated sources with known quality: recovery, and the gain over majority."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labelmill.labelers.aggregate import (
    DawidSkene,
    LabelModel,
    aggregate,
    aggregator_from_config,
    fit_label_model,
)
from labelmill.schemas.records import LabelRecord

SENSITIVITY = np.array([0.95, 0.90, 0.65, 0.60, 0.70])
SPECIFICITY = np.array([0.92, 0.97, 0.60, 0.70, 0.55])


def simulate(n: int, seed: int, abstain: float = 0.2, prior: float = 0.3):
    """Votes of five independent sources (two good, three poor), some abstaining."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < prior
    hit = rng.random((n, len(SENSITIVITY)))
    votes = np.where(truth[:, None], hit < SENSITIVITY, hit >= SPECIFICITY).astype(float)
    votes[rng.random(votes.shape) < abstain] = np.nan
    return truth, votes


def test_recovers_sensitivity_specificity_and_prior():
    truth, votes = simulate(6000, seed=1)
    model = DawidSkene().fit(votes)
    assert model.sensitivity_ == pytest.approx(SENSITIVITY, abs=0.04)
    assert model.specificity_ == pytest.approx(SPECIFICITY, abs=0.04)
    assert model.prior_ == pytest.approx(truth.mean(), abs=0.02)


def test_symmetric_model_recovers_accuracy():
    rng = np.random.default_rng(2)
    accuracy = np.array([0.9, 0.8, 0.6, 0.65])
    truth = rng.random(5000) < 0.5
    right = rng.random((5000, 4)) < accuracy
    votes = np.where(right, truth[:, None], ~truth[:, None]).astype(float)
    model = DawidSkene(symmetric=True).fit(votes)
    assert model.accuracy_ == pytest.approx(accuracy, abs=0.03)


def test_beats_majority_when_sources_differ_in_quality():
    truth, votes = simulate(4000, seed=3)
    held_truth, held_votes = simulate(4000, seed=4)
    model = DawidSkene().fit(votes)
    ds = (model.predict_proba(held_votes) >= 0.5) == held_truth
    voted = ~np.isnan(held_votes).all(axis=1)
    mv = (np.nanmean(held_votes[voted], axis=1) >= 0.5) == held_truth[voted]
    assert ds[voted].mean() > mv.mean() + 0.05


def test_uncertain_policy_and_abstentions():
    votes = np.array([[1, -1, np.nan], [0, -1, 0], [1, 1, np.nan], [np.nan, np.nan, np.nan]])
    ignore = DawidSkene(uncertain="ignore").fit(votes)
    one = DawidSkene(uncertain="one").fit(votes)
    assert ignore.sensitivity_[1] != one.sensitivity_[1]
    proba = ignore.predict_proba(votes)
    assert proba.shape == (4,) and proba[3] == pytest.approx(ignore.prior_)
    with pytest.raises(ValueError, match="expected 3 sources"):
        ignore.predict_proba(np.ones((2, 4)))


def test_json_round_trip_predicts_the_same():
    _, votes = simulate(500, seed=5)
    model = DawidSkene().fit(votes)
    again = DawidSkene.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(again.predict_proba(votes), model.predict_proba(votes))


def _records(votes_row: np.ndarray, label: str) -> list[LabelRecord]:
    """One sample's records: a source abstains on NaN; source 2 reports as a probability."""
    records = []
    for j, v in enumerate(votes_row):
        if np.isnan(v):
            records.append(LabelRecord(f"source{j}"))
        elif j == 2:
            records.append(LabelRecord(f"source{j}", scores={label: 0.8 if v else 0.1}))
        else:
            records.append(LabelRecord(f"source{j}", labels={label: int(v)}))
    return records


def test_label_model_over_records_and_the_build_finalizer():
    truth, votes = simulate(3000, seed=6)
    samples = [_records(row, "Edema") for row in votes]
    model = fit_label_model(samples, ["Edema", "Hernia"], uncertain="ignore")
    assert set(model.models) == {"Edema"}  # nobody voted on Hernia
    learned = model.describe()["Edema"]["sources"]
    assert learned["source0"]["sensitivity"] == pytest.approx(SENSITIVITY[0], abs=0.05)
    assert learned["source4"]["specificity"] == pytest.approx(SPECIFICITY[4], abs=0.05)

    final = model.aggregate(samples[0] + [LabelRecord("late", labels={"Edema": 1})])
    assert final.source == "aggregate/dawid-skene"
    assert final.meta["unfitted"] == ["late"] and final.meta["votes"]["Edema"]["late"] == 1
    assert final.labels["Edema"] == int(final.scores["Edema"] >= 0.5)

    restored = LabelModel.from_json(json.loads(json.dumps(model.to_json())))
    finalize = aggregator_from_config({"method": "dawid-skene", "model": restored.to_json()})
    assert finalize(samples[0]) == model.aggregate(samples[0]).to_json()
    assert aggregate(samples[0], ["Edema"], "dawid-skene", model=model).scores == final.scores

    predicted = np.array([model.aggregate(s).labels.get("Edema", 0) for s in samples])
    assert (predicted == truth).mean() > 0.9


def test_few_samples_and_a_positives_only_source_do_not_collapse_to_the_prevalence():
    """Two sources, one that only ever votes 1 (a manifest's labels), 13 samples: plain EM slides
    to sensitivity + specificity = 1 for both and every posterior becomes the prevalence."""
    nan = np.nan
    votes = np.array(
        [[nan, 0], [nan, 0], [1, 1], [nan, 0], [1, 1], [nan, 0], [1, 1], [nan, 1], [nan, 0]]
        + [[nan, 0], [nan, 0], [1, 1], [nan, 0]],
        dtype=float,
    )
    model = DawidSkene().fit(votes)
    assert (model.sensitivity_ + model.specificity_ > 1.3).all()
    proba = model.predict_proba(votes)
    assert (proba[votes[:, 1] == 0] < 0.3).all() and (proba[votes[:, 0] == 1] > 0.9).all()
