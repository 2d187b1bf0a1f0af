"""The ontology schema's language fields: `language:` and per-language phrase blocks."""

from __future__ import annotations

import pytest

from labelmill.schemas.ontology import OntologyError, load_ontology, parse_ontology

BASE = {"name": "t", "labels": [{"name": "Effusion", "synonyms": ["pleural effusion"]}]}


def test_language_blocks_give_every_label_in_every_language() -> None:
    ontology = parse_ontology(
        {
            **BASE,
            "labels": [*BASE["labels"], {"name": "Mass"}],
            "languages": {"es": {"Effusion": {"synonyms": ["derrame pleural"]}}},
        }
    )
    assert ontology.language == "en" and ontology.languages == ["en", "es"]
    spanish = {c.name: c for c in ontology.vocabulary("es")}
    assert spanish["Effusion"].synonyms == ("derrame pleural",)
    assert spanish["Mass"].synonyms == ()
    assert ontology.vocabulary() == ontology.concepts


def test_the_hash_covers_other_languages() -> None:
    one = parse_ontology({**BASE, "languages": {"es": {"Effusion": {"synonyms": ["derrame"]}}}})
    two = parse_ontology({**BASE, "languages": {"es": {"Effusion": {"synonyms": ["liquido"]}}}})
    assert one.hash != two.hash != parse_ontology(BASE).hash


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"language": "English"}, "'language' must be a language code"),
        ({"languages": ["es"]}, "'languages' must map"),
        ({"languages": {"es": {"Nodule": {"synonyms": ["nodulo"]}}}}, r"unknown label\(s\)"),
        ({"languages": {"es": {"Effusion": {"synonym": ["x"]}}}}, "a mapping of synonyms"),
        ({"languages": {"es": {"Effusion": {"patterns": ["(x"]}}}}, "invalid regular expression"),
        ({"languages": {"../x": {}}}, "not a language code"),
    ],
)
def test_bad_language_fields_are_named(extra: dict, message: str) -> None:
    with pytest.raises(OntologyError, match=message):
        parse_ontology({**BASE, **extra})


def test_bad_other_findings_are_named() -> None:
    data = {
        "name": "t",
        "labels": [{"name": "No Finding"}, {"name": "Effusion"}],
        "options": {"no_finding": {"label": "No Finding", "other_findings": {"en": ["(x"]}}},
    }
    with pytest.raises(OntologyError, match="other_findings.en"):
        parse_ontology(data)


@pytest.mark.parametrize("name", ["chestxray14", "chexpert"])
def test_builtin_ontologies_speak_spanish(name: str) -> None:
    ontology = load_ontology(name)
    assert ontology.languages == ["en", "es"]
    spanish = [c for c in ontology.vocabulary("es") if c.patterns or c.synonyms]
    assert len(spanish) >= len(ontology.labels) - 1  # all but chexpert's rule-set No Finding
