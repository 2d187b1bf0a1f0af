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


# A hedge that proposes the reading is a finding (PadChest's convention); one that raises a
# possibility or asks to rule out stays uncertain.
@pytest.mark.parametrize(
    ("hedge", "expected"),
    [
        ("hallazg sugest de", 1),
        ("sugier", 1),
        ("a valor", 1),
        ("podri correspond a", 1),
        ("pued relacion con", 1),
        ("posibl", -1),
        ("dudos", -1),
        ("sospech de", -1),
        ("descart", -1),
        ("no se pued descart", -1),
    ],
)
@pytest.mark.parametrize("finding", ["neumoni", "proces infecci", "derram pleural"])
def test_spanish_hedges(hedge: str, expected: int, finding: str) -> None:
    label = "Effusion" if finding.startswith("derram") else "Pneumonia"
    assert labels(f"opac basal derech {hedge} {finding} .")[label] == expected
    if expected == 1:  # a proposed reading yields to a negation that reaches the finding
        assert labels(f"sin sign {hedge} {finding} .")[label] == 0


@pytest.mark.parametrize("first", ["atelectasi", "edem pulmon"])
def test_spanish_versus_names_both_readings(first: str) -> None:
    found = labels(f"opac basal {first} vs neumoni .")
    assert found["Pneumonia"] == 1
    assert found["Atelectasis" if first == "atelectasi" else "Edema"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aument ict .", 1),
        ("lev aument indic cardi torac .", 1),
        ("indic cardiotorac rang alto normal .", 1),
        ("ict limit superior normal .", 1),
        ("indic cardiotorac limit significacion patolog .", 1),
        ("crecimient ventricul izquierd .", 1),
        ("aument taman auricul izquierd .", 1),
        ("cardimegali .", 1),
        ("indic cardiotorac dentr limit normal .", 0),
        ("indic cardiotorac normal .", 0),
        ("ni aument ict .", 0),
    ],
)
def test_spanish_cardiothoracic_index_and_chambers(text: str, expected: int) -> None:
    assert labels(text)["Cardiomegaly"] == expected


@pytest.mark.parametrize("head", ["patologi", "sign", "cuadr", "etiologi", "caracterist"])
def test_spanish_infectious_process_is_pneumonia(head: str) -> None:
    assert labels(f"aument densid basal {head} infecci .")["Pneumonia"] == 1
    assert labels(f"{head} viric .").get("Pneumonia") == (1 if head == "etiologi" else None)


@pytest.mark.parametrize(
    "qualifier",
    ["no present estudi previ", "no visibl en el estudi anterior", "sin clar correspondent"],
)
def test_spanish_qualifiers_of_the_image_do_not_negate(qualifier: str) -> None:
    assert labels(f"aument densid basal {qualifier} con neumoni .")["Pneumonia"] == 1
    assert labels(f"neumoni {qualifier} .")["Pneumonia"] == 1


@pytest.mark.parametrize("explanation", ["deb ser mamil", "podri trat granulom calcific"])
def test_spanish_nodule_explained_away_keeps_the_words_between(explanation: str) -> None:
    found = labels(f"nodul basal derech con derram pleural {explanation} .")
    assert "Nodule" not in found
    assert found["Effusion"] == 1
    assert labels(f"nodul basal derech . {explanation} .")["Nodule"] == 1


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
