"""The label model from vote-pattern counts: the same fit as on every sample's votes, and the same
counts whichever way the shards' counts are added."""

from __future__ import annotations

import json

import numpy as np

from labelmill.labelers.aggregate import fit_label_model
from labelmill.pipelines.label_model_stage import VoteCounts
from labelmill.schemas.records import LabelRecord


def samples(n: int, seed: int = 0) -> list[list[LabelRecord]]:
    """Three sources of different quality voting on two labels, with abstentions and -1."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        truth = {"A": int(rng.random() < 0.3), "B": int(rng.random() < 0.6)}
        records = []
        for source, accuracy in (("good", 0.95), ("fair", 0.75), ("noisy", 0.6)):
            labels = {}
            for label, value in truth.items():
                draw = rng.random()
                if draw < 0.15:
                    continue  # abstain
                if draw < 0.2:
                    labels[label] = -1
                else:
                    labels[label] = value if rng.random() < accuracy else 1 - value
            records.append(LabelRecord(source, labels))
        out.append(records)
    return out


def test_pattern_counts_fit_like_every_samples_votes():
    data = samples(400)
    counts = VoteCounts()
    for records in data:
        counts.add(records)
    assert sum(sum(c.values()) for c in counts.patterns.values()) <= 2 * 400
    assert all(len(c) < 4**3 for c in counts.patterns.values())  # 1, 0, -1 or silent, per source
    fitted = counts.fit("ignore")
    reference = fit_label_model(data, ["A", "B"], "ignore")
    assert fitted.sources == reference.sources and fitted.labels == ("A", "B")
    for label in ("A", "B"):
        mine, theirs = fitted.models[label], reference.models[label]
        assert abs(mine.prior_ - theirs.prior_) < 1e-6
        assert np.allclose(mine.sensitivity_, theirs.sensitivity_, atol=1e-6)
        assert np.allclose(mine.specificity_, theirs.specificity_, atol=1e-6)
    good = fitted.sources.index("good")
    assert fitted.models["A"].accuracy_[good] > fitted.models["A"].accuracy_.min()


def test_counts_add_up_the_same_in_any_order_and_survive_json():
    data = samples(90, seed=1)
    shards = []
    for start in range(0, 90, 30):
        counts = VoteCounts()
        for records in data[start : start + 30]:
            counts.add(records)
        shards.append(VoteCounts.from_json(json.loads(json.dumps(counts.to_json()))))
    forward, backward = VoteCounts(), VoteCounts()
    for counts in shards:
        forward.merge(counts)
    for counts in reversed(shards):
        backward.merge(VoteCounts.from_json(counts.to_json()))
    assert forward.to_json() == backward.to_json()
    whole = VoteCounts()
    for records in data:
        whole.add(records)
    assert forward.to_json() == whole.to_json()
