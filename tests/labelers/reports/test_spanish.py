"""Spanish reports: full and stemmed (PadChest-style) text, triggers and sections from es.yaml."""

from __future__ import annotations

import pytest

from labelmill.labelers.base import create
from labelmill.labelers.reports.labeler import get_engine, label_texts
from labelmill.schemas.ontology import OntologyError, parse_ontology
from labelmill.schemas.records import InputRow, Sample


def labels(text: str) -> dict[str, int]:
    return get_engine("chestxray14", None, "es").label(text).labels


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("Sin derrame pleural.", "Effusion", 0),
        (" sin derram pleural . cardiomegali .", "Effusion", 0),
        (" sin derram pleural . cardiomegali .", "Cardiomegaly", 1),
        ("No se aprecia neumotórax ni derrame.", "Effusion", 0),
        ("no se apreci neumotorax ni derram", "Pneumothorax", 0),
        ("Sin cambios respecto a previa. Derrame pleural izquierdo.", "Effusion", 1),
        ("sin cambi signific en el derram pleural", "Effusion", 1),
        ("Posible neumonía basal derecha.", "Pneumonia", -1),
        ("condensacion basal probabl relacion con neumoni", "Pneumonia", 1),
        ("No se puede descartar neumotórax.", "Pneumothorax", -1),
        ("neumotorax resuelt", "Pneumothorax", 0),
        ("Derrame pericárdico.", "Effusion", None),
        ("Enfisema subcutáneo.", "Emphysema", None),
        ("Engrosamiento pleural apical.", "Pleural_Thickening", 1),
        ("hernia de hiato", "Hernia", 1),
        ("indic cardiotorac limit alto normal", "Cardiomegaly", 1),
        ("indice cardiotoracico normal", "Cardiomegaly", 0),
        ("¿nódulo?", "Nodule", -1),
        ("Antecedentes: neumonía.\nHallazgos: sin derrame.", "Pneumonia", None),
        ("Antecedentes: neumonía.\nHallazgos: sin derrame.", "Effusion", 0),
    ],
)
def test_spanish_rules(text: str, label: str, expected: int | None) -> None:
    assert labels(text).get(label) == expected


def test_english_names_are_not_spanish_phrases() -> None:
    assert labels("Effusion. Mass.") == {}


def test_language_reaches_the_labeler_and_the_pool() -> None:
    labeler = create("reports", {"ontology": "chestxray14", "language": "es"})
    row = InputRow(row=0, id="a", image="a.png", report="derrame pleural")
    sample = Sample(row=row, key="a", image=b"", image_ext="png", image_info={}, report=row.report)
    assert labeler.label_batch([sample])[0].labels == {"Effusion": 1}
    assert labeler.describe()["language"] == "es"
    texts = ["derrame pleural", "sin derrame", None]
    pooled = label_texts(texts, "chestxray14", workers=2, chunk_size=1, language="es")
    assert [r["labels"]["Effusion"] for r in pooled] == [1, 0, None]


def test_an_ontology_without_the_language_says_which_it_has() -> None:
    ontology = parse_ontology({"name": "t", "labels": [{"name": "Effusion"}]})
    with pytest.raises(OntologyError, match=r"no 'es' vocabulary; it has \['en'\]"):
        ontology.vocabulary("es")
