"""The ontology schema: built-in label sets, user files, and errors that name the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill.schemas.ontology import OntologyError, load_ontology, parse_ontology

CHESTXRAY14 = [
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
]
CHEXPERT = [
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
]


def test_builtin_label_sets_are_exact() -> None:
    assert load_ontology("chestxray14").labels == CHESTXRAY14
    chexpert = load_ontology("chexpert")
    assert chexpert.labels == CHEXPERT
    assert chexpert.options["no_finding"]["label"] == "No Finding"


def test_builtin_concepts_carry_vocabulary() -> None:
    effusion = load_ontology("chestxray14").concept("Effusion")
    assert "pleural effusion" in effusion.synonyms
    assert "pericardial effusion" in effusion.exclusions


def test_user_file_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nlabels:\n  - name: Foo\n    synonyms: [foo]\n", "utf-8")
    first = load_ontology(path)
    assert first.labels == ["Foo"] and first.name == "mine"
    path.write_text("name: mine\nlabels:\n  - name: Foo\n    synonyms: [fooo]\n", "utf-8")
    assert load_ontology(path).hash != first.hash


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level must be a mapping"),
        ({"labels": [{"name": "A"}]}, "'name' must be a non-empty string"),
        ({"name": "x", "version": "one", "labels": [{"name": "A"}]}, "'version'"),
        ({"name": "x", "labels": []}, "'labels' must be a non-empty list"),
        ({"name": "x", "labels": ["A"]}, "labels[0] must be a mapping"),
        ({"name": "x", "labels": [{"name": "A"}, {"name": "A"}]}, "duplicate label name 'A'"),
        (
            {"name": "x", "labels": [{"name": "A", "synonym": ["a"]}]},
            "unknown field(s) ['synonym']",
        ),
        ({"name": "x", "labels": [{"name": "A", "synonyms": "a"}]}, "'synonyms' must be a list"),
        ({"name": "x", "labels": [{"name": "A", "codes": ["x"]}]}, "'codes' must be a mapping"),
        ({"name": "x", "labels": [{"name": "A", "patterns": ["(a"]}]}, "invalid regular expr"),
        ({"name": "x", "labels": [{"name": "A"}], "options": []}, "'options' must be a mapping"),
        ({"name": "x", "labels": [{"name": "A"}], "options": {"ignore": 1}}, "unknown option"),
        (
            {"name": "x", "labels": [{"name": "A"}], "options": {"ignore_sections": "history"}},
            "ignore_sections must be a list",
        ),
        (
            {"name": "x", "labels": [{"name": "A"}], "options": {"no_finding": {"label": "B"}}},
            "unknown label(s) ['B']",
        ),
        (
            {"name": "x", "labels": [{"name": "A"}], "options": {"no_finding": "A"}},
            "no_finding must be a mapping",
        ),
    ],
)
def test_validation_errors_name_the_field(data: object, message: str) -> None:
    with pytest.raises(OntologyError) as caught:
        parse_ontology(data, "test.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("test.yaml")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="neither a built-in"):
        load_ontology(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(OntologyError, match="not valid YAML"):
        load_ontology(bad)
