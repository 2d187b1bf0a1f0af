"""The manifest's own labels as a source, raw or harmonized onto several labels per string."""

from __future__ import annotations

from labelmill.labelers.manifest_labels import ManifestLabels


def test_one_string_votes_for_every_label_it_maps_to():
    labeler = ManifestLabels(
        {"hydropneumothorax": ["Effusion", "Pneumothorax"], "x": [], "ptx": "Pneumothorax"}
    )
    record = labeler._label(["hydropneumothorax", "x", "ptx"])
    assert record.labels == {"Effusion": 1, "Pneumothorax": 1}
    assert [e["status"] for e in record.evidence] == ["mapped", "unmapped", "mapped"]
    assert record.evidence[0]["label"] == "Effusion|Pneumothorax"
