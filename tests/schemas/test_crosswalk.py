"""The cross-ontology table: equivalents both ways, narrower labels upward only, many-to-many."""

from __future__ import annotations

import pytest

from labelmill.schemas.crosswalk import load_crosswalk, parse_crosswalk
from labelmill.schemas.ontology import OntologyError, builtin_names


def test_shipped_table_is_valid_and_no_ontology():
    table = load_crosswalk()
    assert table.ontologies == {"chestxray14", "chexpert", "padchest"}
    assert "crosswalk" not in builtin_names()


def test_translate():
    t = load_crosswalk()
    assert t.translate("padchest", "hydropneumothorax", "chestxray14") == (
        "Effusion",
        "Pneumothorax",
    )
    assert t.translate("padchest", "alveolar pattern", "chexpert") == ("Lung Opacity",)
    assert t.translate("chestxray14", "Effusion", "padchest") == ("pleural effusion",)
    # Narrower labels imply their row, never the reverse: a Lung Lesion is no particular Mass.
    assert t.translate("chestxray14", "Mass", "chexpert") == ("Lung Lesion",)
    assert t.translate("chexpert", "Lung Lesion", "chestxray14") == ()
    assert t.covers("padchest", "scoliosis") is False and t.covers("padchest", "nodule")


def test_errors_name_the_row():
    with pytest.raises(OntologyError, match="rows"):
        parse_crosswalk({"rows": "x"})
    with pytest.raises(OntologyError, match=r"rows\[0\]: each ontology names one label"):
        parse_crosswalk({"rows": [{"chestxray14": ["Effusion"]}]}, check=False)
    with pytest.raises(OntologyError, match=r"rows\[0\] names unknown chestxray14 \['Efusion'\]"):
        parse_crosswalk({"rows": [{"chestxray14": "Efusion"}]})


def test_what_each_name_votes_on():
    from labelmill.schemas.crosswalk import Implied

    implied = load_crosswalk().implied_by()
    assert Implied("Effusion", False) in implied["Pleural Effusion"]
    assert {Implied("Effusion", True), Implied("Pneumothorax", True)} <= set(
        implied["hydropneumothorax"]
    )
    assert Implied("Infiltration", True) in implied["interstitial pattern"]
    # A broader label implies none of its narrower ones; no name implies itself.
    assert all(t.label != "Infiltration" for t in implied.get("Lung Opacity", ()))
    assert all(t.label != "Effusion" for t in implied["Effusion"])
