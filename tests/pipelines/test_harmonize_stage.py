"""The launcher's harmonization: one mapping of distinct strings onto lists of labels."""

from __future__ import annotations

import json
from pathlib import Path

from labelmill.pipelines.harmonize_stage import harmonize_labels
from labelmill.schemas.config import BuildConfig


def test_mapping_carries_several_labels_per_string(tmp_path: Path):
    config = BuildConfig(
        input="m.csv",
        output=str(tmp_path),
        harmonize={"ontology": "chestxray14", "cache_dir": str(tmp_path / "cache")},
    )
    strings = ["hydropneumothorax", "PTX", "PTX", "no effusion"]
    options = harmonize_labels(config, strings, str(tmp_path))
    assert options["manifest_labels"]["mapping"] == {
        "hydropneumothorax": ["Effusion", "Pneumothorax"],
        "no effusion": [],
        "PTX": ["Pneumothorax"],
    }
    record = json.loads((tmp_path / "harmonize.json").read_text())
    by_raw = {d["raw"]: d for d in record["decisions"]}
    assert by_raw["hydropneumothorax"]["label"] == "Effusion|Pneumothorax"
    assert "negated" in by_raw["no effusion"]["reason"]
    assert harmonize_labels(BuildConfig(input="m.csv", output=str(tmp_path)), strings, "x") == {}
