"""CheXpert's conventions in the `chexpert` ontology: No Finding, devices, the other labels."""

from __future__ import annotations

import pytest

from labelmill.labelers.reports.labeler import get_engine


def labels(text: str, language: str | None = None) -> dict[str, int]:
    return get_engine("chexpert", None, language).label(text).labels


@pytest.mark.parametrize(
    "text",
    [
        "Calcified granuloma in the right apex. Lungs are clear.",
        "Degenerative changes of the thoracic spine. No effusion.",
        "Mild scoliosis. Heart size normal.",
        "Lungs are hyperinflated. No focal consolidation.",
        "Low lung volumes. No pneumothorax.",
    ],
)
def test_other_abnormalities_rule_out_no_finding(text: str) -> None:
    assert "No Finding" not in labels(text)


@pytest.mark.parametrize(
    "text",
    [
        "Heart size normal. Lungs are clear.",
        "No emphysema. No granulomas. Lungs are clear.",
        "Pacemaker in place. Lungs are clear.",
    ],
)
def test_only_normal_statements_give_no_finding(text: str) -> None:
    assert labels(text)["No Finding"] == 1


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("There is prominence of the superior mediastinum.", "Enlarged Cardiomediastinum", 1),
        ("Widened mediastinum.", "Enlarged Cardiomediastinum", 1),
        ("Right chest XXXX tip in the mid SVC.", "Support Devices", 1),
        ("Right PICC line in place.", "Support Devices", 1),
        ("Ventriculoperitoneal shunt tubing.", "Support Devices", 1),
        ("Surgical clips in the right upper quadrant.", "Support Devices", None),
        ("Minor fissural thickening.", "Pleural Other", 1),
        ("Mild vascular redistribution.", "Edema", 1),
        ("Cephalization of the pulmonary vessels.", "Edema", 1),
        ("Left basilar parenchymal scarring.", "Lung Opacity", 1),
        ("Increased interstitial markings.", "Lung Opacity", 1),
        ("Right lower lobe consolidation.", "Lung Opacity", 1),
        ("Right lower lobe consolidation.", "Consolidation", 1),
        ("No focal opacity to suggest pneumonia.", "Pneumonia", 0),
    ],
)
def test_chexpert_phrases(text: str, label: str, expected: int | None) -> None:
    assert labels(text).get(label) == expected


def test_spanish_no_finding() -> None:
    assert labels("sin hallazgos patologicos. silueta cardiaca normal.", "es")["No Finding"] == 1
    assert "No Finding" not in labels("granuloma calcificado. sin derrame.", "es")
    assert labels("derrame pleural izquierdo.", "es")["Pleural Effusion"] == 1
