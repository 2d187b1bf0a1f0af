"""Negation and uncertainty beyond radiology's wording, one generated case per rule family.

Clinical concepts come from a small made-up ontology, so that each case names exactly the
finding whose status it checks.
"""

from __future__ import annotations

import pytest

from labelmill.labelers.reports.engine import ReportEngine
from labelmill.labelers.reports.labeler import get_engine
from labelmill.schemas.ontology import parse_ontology

CLINICAL = ReportEngine(
    parse_ontology(
        {
            "name": "clinical",
            "labels": [
                {"name": "Fever"},
                {"name": "Chest pain"},
                {"name": "Vision change", "synonyms": ["change in vision"]},
                {"name": "Infection"},
                {"name": "Bulge", "synonyms": ["disc bulge is seen without compression"]},
                {"name": "Herniation"},
                {"name": "Tuberculosis"},
            ],
        }
    )
)


def clinical(text: str) -> dict[str, int]:
    return CLINICAL.label(text).labels


def radiology(text: str, ontology: str = "chestxray14") -> dict[str, int]:
    return get_engine(ontology).label(text).labels


CLINICAL_CASES = {
    "denies": [
        ("The patient denies chest pain.", "Chest pain", 0),
        ("He denied fever and chest pain.", "Fever", 0),
        ("He denied fever and chest pain.", "Chest pain", 0),
    ],
    "post-negations": [
        ("Chest pain was negative.", "Chest pain", 0),
        ("Fever: none.", "Fever", 0),
        ("Fever - no.", "Fever", 0),
        ("Fever absent.", "Fever", 0),
        ("Tuberculosis ruled out.", "Tuberculosis", 0),
        ("Tuberculosis was excluded.", "Tuberculosis", 0),
    ],
    "pseudo-triggers do not swallow the finding": [
        ("No change in vision.", "Vision change", 0),
        ("No further signs of infection.", "Infection", 0),
        ("No significant change in fever.", "Fever", 1),
    ],
    "a trigger inside the concept phrase": [
        ("A disc bulge is seen without compression.", "Bulge", 1),
        ("A disc bulge without herniation.", "Herniation", 0),
    ],
    "conditional and generic mentions": [
        ("Previous active tuberculosis.", "Tuberculosis", None),
        ("Infection in the appropriate clinical setting.", "Infection", None),
    ],
}

RADIOLOGY_CASES = {
    "to suggest": [
        ("No focal opacity to suggest pneumonia.", "Pneumonia", 0),
        ("No findings suggestive of pneumonia.", "Pneumonia", 0),
        ("Opacity suggesting pneumonia.", "Pneumonia", -1),
    ],
    "negation across a comma into a new clause": [
        (
            "No consolidation, no definite effusion, left hilar calcifications and dense nodule.",
            "Nodule",
            1,
        ),
        ("No consolidation, no definite effusion, left hilar nodule.", "Effusion", 0),
        ("No consolidation, no definite effusion, left hilar nodule.", "Consolidation", 0),
        ("Heart normal, no effusion, pneumothorax or consolidation.", "Consolidation", 0),
    ],
    "backward uncertainty": [
        ("Mild edema difficult to entirely exclude.", "Edema", -1),
        ("A small effusion cannot be excluded.", "Effusion", -1),
    ],
    "versus and most suggestive of": [
        ("Effusion vs atelectasis.", "Effusion", 1),
        ("Effusion vs atelectasis.", "Atelectasis", -1),
        ("Opacity most suggestive of pneumonia.", "Pneumonia", 1),
    ],
    "generic mentions": [
        ("CT is more sensitive in detecting small nodules.", "Nodule", None),
        ("Could represent pneumonia in the appropriate clinical setting.", "Pneumonia", -1),
    ],
    "question marks": [
        ("?Nodule", "Nodule", -1),
        ("Nodule?", "Nodule", -1),
        ("? effusion", "Effusion", -1),
        ("Right effusion? No pneumothorax.", "Pneumothorax", 0),
    ],
    "headings": [
        ("Findings - small left effusion.", "Effusion", 1),
        ("IMPRESSION\nNo effusion", "Effusion", 0),
        ("INDICATION: cough. No effusion.", "Effusion", 0),
        ("INDICATION: evaluate for pneumonia. Rule out effusion.", "Effusion", None),
        ("HISTORY: pneumonia\n\nSmall effusion.", "Effusion", 1),
        ("HISTORY: pneumonia\n\nSmall effusion.", "Pneumonia", None),
    ],
}


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [case for family in CLINICAL_CASES.values() for case in family],
    ids=[f"{f}: {c[0]!r}->{c[1]}" for f, cs in CLINICAL_CASES.items() for c in cs],
)
def test_clinical_family(text: str, label: str, expected: int | None) -> None:
    assert clinical(text).get(label) == expected


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [case for family in RADIOLOGY_CASES.values() for case in family],
    ids=[f"{f}: {c[0]!r}->{c[1]}" for f, cs in RADIOLOGY_CASES.items() for c in cs],
)
def test_radiology_family(text: str, label: str, expected: int | None) -> None:
    assert radiology(text).get(label) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Age-indeterminate fracture of the left rib.",
        "Left rib fracture of indeterminate age.",
        "Fracture of the left rib, age indeterminate.",
    ],
)
def test_age_indeterminate_fracture_is_present(text: str) -> None:
    assert radiology(text, "chexpert")["Fracture"] == 1


def test_evidence_names_the_trigger_that_decided() -> None:
    evidence = CLINICAL.label("No change in vision.").evidence
    assert [(e["label"], e["status"], e["trigger"]) for e in evidence] == [
        ("Vision change", 0, "negated: no")
    ]
