"""The ontology fields only harmonization reads: `not:`, `families`, `harmonize`."""

from __future__ import annotations

import pytest

from labelmill.schemas.ontology import OntologyError, load_ontology, parse_ontology

BASE = {"name": "t", "labels": [{"name": "Infiltration"}, {"name": "Cardiomegaly"}]}


def test_fields_are_read():
    o = parse_ontology(
        {
            **BASE,
            "labels": [
                {"name": "Infiltration"},
                {"name": "Cardiomegaly", "not": ["heart surgery"]},
            ],
            "families": [
                {"labels": ["Infiltration"], "heads": ["pattern"], "members": ["alveolar"]}
            ],
            "harmonize": {"accept": 0.7, "margin": 0.02, "anatomy": ["lung", "heart"]},
        }
    )
    assert o.concept("Cardiomegaly").negatives == ("heart surgery",)
    assert o.families[0].labels == ("Infiltration",)
    assert o.harmonize["accept"] == 0.7
    assert o.hash != parse_ontology(BASE).hash


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"families": [{"labels": ["Nope"], "heads": ["p"], "members": ["m"]}]}, "unknown label"),
        ({"families": [{"labels": ["Infiltration"], "heads": [], "members": ["m"]}]}, "heads"),
        (
            {"families": [{"labels": ["Infiltration"], "heads": ["p"], "members": ["m"], "x": 1}]},
            "unknown field",
        ),
        ({"harmonize": {"accept": 2}}, "harmonize.accept"),
        ({"harmonize": {"acept": 0.5}}, "unknown harmonize option"),
        ({"harmonize": {"anatomy": "lung"}}, "harmonize.anatomy"),
    ],
)
def test_errors_name_the_field(extra: dict, message: str):
    with pytest.raises(OntologyError, match=message):
        parse_ontology({**BASE, **extra})


def test_padchest_ontology():
    padchest = load_ontology("padchest")
    assert len(padchest.labels) >= 60
    effusion = padchest.concept("pleural effusion")
    assert "derram pleural" in effusion.synonyms  # the Spanish stem of its reports
