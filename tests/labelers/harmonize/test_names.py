"""`map_names`: the one call for gold columns and image-model class names."""

from __future__ import annotations

from labelmill.labelers.harmonize import map_names
from labelmill.schemas.ontology import load_ontology


def test_gold_columns_and_class_names():
    names = ["effusion", "PTX", "hydropneumothorax", "No pneumothorax", "Cardiomegaly", "dog"]
    mapping = map_names(names, "chestxray14")
    assert mapping == {
        "effusion": ("Effusion",),
        "PTX": ("Pneumothorax",),
        "hydropneumothorax": ("Effusion", "Pneumothorax"),
        "No pneumothorax": (),
        "Cardiomegaly": ("Cardiomegaly",),
        "dog": (),
    }


def test_takes_a_loaded_ontology_and_maps_the_other_way():
    padchest = load_ontology("padchest")
    mapping = map_names(["Effusion", "Pleural_Thickening", "Infiltration"], padchest)
    assert mapping == {
        "Effusion": ("pleural effusion",),
        "Pleural_Thickening": ("pleural thickening",),
        "Infiltration": ("infiltrates",),
    }
    assert map_names(["Lung Opacity", "Support Devices"], "chexpert") == {
        "Lung Opacity": ("Lung Opacity",),
        "Support Devices": ("Support Devices",),
    }
