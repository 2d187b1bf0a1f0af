"""The shard reader streams samples with only the members asked for."""

from __future__ import annotations

from pathlib import Path

from labelmill.audit.read import iter_samples, shard_urls
from labelmill.audit.votes import sample_votes


def test_samples_come_in_order_with_only_kept_members(hand_build: Path) -> None:
    url = str(hand_build / "shards" / "shard-000000.tar")
    samples = list(iter_samples(url, keep=lambda suffix: suffix.endswith(".npy")))
    assert [s.key for s in samples] == ["s1", "s2", "s3", "s4"]
    assert set(samples[0].members) == {"labelmap_idx.npy", "labelmap_score.npy"}
    assert samples[2].members == {}
    assert samples[0].label_maps()["labelmap_idx"].shape == (1, 4, 4)


def test_shards_listed_by_run_json_or_found_on_disk(hand_build: Path) -> None:
    listed = shard_urls(str(hand_build), {"shards": [{"shard": "shards/shard-000000.tar"}]})
    found = shard_urls(str(hand_build), {})
    assert listed == found == [f"{hand_build}/shards/shard-000000.tar"]


def test_votes_use_the_aggregator_reading_of_scores() -> None:
    doc = {
        "key": "k",
        "id": "i",
        "records": [
            {"source": "img", "labels": {}, "scores": {"cat": 0.7, "dog": 0.2}},
            {"source": "img", "labels": {"cat": 0}},
            {"source": "bad", "labels": {"cat": 1}, "meta": {"error": "boom"}},
        ],
        "final": None,
    }
    votes = sample_votes(doc)
    assert votes.by_source == {
        "img": {"cat": 1, "dog": 0},
        "img#2": {"cat": 0},
        "bad": {"cat": "error"},
    }
    assert not votes.has_final


def test_votes_in_another_ontology_are_read_onto_the_final_labels() -> None:
    """The audit reads a chexpert source's votes on the final chestxray14 labels as the
    aggregator does (crosswalk: equivalents both ways, narrower names upward only)."""
    doc = {
        "key": "k",
        "id": "x",
        "records": [
            {"source": "reports/chexpert", "labels": {"Pleural Effusion": 0, "Pneumothorax": 1}},
            {"source": "manifest", "labels": {"hydropneumothorax": 1, "alveolar pattern": 0}},
        ],
        "final": {"labels": {"Effusion": 1, "Pneumothorax": 1, "Infiltration": 0}, "scores": {}},
    }
    votes = sample_votes(doc)
    assert votes.by_source["reports/chexpert"] == {
        "Pleural Effusion": 0,
        "Pneumothorax": 1,
        "Effusion": 0,
    }
    manifest = votes.by_source["manifest"]
    assert manifest["Effusion"] == 1 and manifest["Pneumothorax"] == 1
    assert "Infiltration" not in manifest  # "no alveolar pattern" says nothing of infiltrates
