"""Where a finding is: side and zone words as evidence, in English and Spanish, never a label."""

from __future__ import annotations

import pytest

from labelmill.labelers.reports.engine import ReportEngine
from labelmill.labelers.reports.languages import parse_language
from labelmill.labelers.reports.locations import LocationFinder
from labelmill.schemas.ontology import load_ontology


def places(text: str, language: str = "en") -> dict[str, dict[str, str] | None]:
    engine = ReportEngine(load_ontology("chestxray14"), language=language)
    return {e["label"]: e.get("location") for e in engine.label(text).evidence}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Small left pleural effusion.", {"Effusion": {"side": "left"}}),
        (
            "Right upper lobe nodule and bibasilar atelectasis.",
            {
                "Nodule": {"side": "right", "zone": "upper"},
                "Atelectasis": {"side": "bilateral", "zone": "lower"},
            },
        ),
        ("Consolidation in the RLL.", {"Consolidation": {"side": "right", "zone": "lower"}}),
        ("Atelectasis at the left lung base.", {"Atelectasis": {"side": "left", "zone": "lower"}}),
        # A finding that is denied is not placed; nor is one without a place.
        ("No left pneumothorax. Cardiomegaly.", {"Pneumothorax": None, "Cardiomegaly": None}),
    ],
)
def test_english_locations(text: str, expected: dict) -> None:
    assert places(text) == expected


def test_spanish_and_padchest_stems() -> None:
    found = places(" pequen atelectasi subsegmentari bas izquierd . nodul lsd .", "es")
    assert found == {
        "Atelectasis": {"side": "left", "zone": "lower"},
        "Nodule": {"side": "right", "zone": "upper"},
    }
    full = places("Derrame pleural derecho, atelectasia basal izquierda.", "es")
    assert full == {"Effusion": {"side": "right"}, "Atelectasis": {"side": "left", "zone": "lower"}}


def test_locations_never_change_labels() -> None:
    engine = ReportEngine(load_ontology("chestxray14"))
    bare = ReportEngine(load_ontology("chestxray14"))
    bare._locations = LocationFinder(
        parse_language(
            {
                "language": "xx",
                "sections": {"findings": ["findings"]},
                "triggers": [{"kind": "negated", "direction": "forward", "patterns": ["no"]}],
            },
            "x",
        )
    )
    text = "FINDINGS: Left basilar atelectasis. No right effusion. Possible RUL nodule."
    assert engine.label(text).labels == bare.label(text).labels
    assert all("location" not in e for e in bare.label(text).evidence)
