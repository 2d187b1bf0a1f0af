"""Gold column names through the build's harmonizer: exact, lexical, duplicates, unmatched."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill.audit.gold import Gold
from labelmill.audit.gold_names import build_ontology, harmonize_gold

RUN = {"config": {"harmonize": {"ontology": "chestxray14", "llm": "none"}}}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELMILL_CACHE", str(tmp_path / "cache"))


def gold(*names: str) -> Gold:
    rows = {"s1": {n: 1 for n in names}, "s2": {n: 0 for n in names}}
    return Gold(path="g.csv", match="id", labels=names, rows=rows)


def test_columns_map_onto_the_ontology() -> None:
    names = ("effusion", "PTX", "Cardiomegaly", "pleural effusion", "no pneumothorax")
    mapped, table = harmonize_gold(gold(*names), RUN)
    rows = {r["column"]: r for r in table["columns"]}
    assert (rows["effusion"]["label"], rows["effusion"]["method"]) == ("Effusion", "lexical")
    assert rows["PTX"]["label"] == "Pneumothorax"
    assert (rows["Cardiomegaly"]["method"], rows["Cardiomegaly"]["score"]) == ("exact", 1.0)
    # a second column for Effusion is dropped, and the table says where Effusion came from
    dup = rows["pleural effusion"]
    assert dup["label"] is None and dup["compared_as"] is None
    assert "already comes from column 'effusion'" in dup["reason"]
    # a negated name is never mapped; it is kept under its own name
    assert rows["no pneumothorax"]["label"] is None
    assert rows["no pneumothorax"]["compared_as"] == "no pneumothorax"
    assert table["unmatched"] == ["pleural effusion", "no pneumothorax"]
    assert mapped.labels == ("Effusion", "Pneumothorax", "Cardiomegaly", "no pneumothorax")
    assert mapped.rows["s1"] == {
        "Effusion": 1,
        "Pneumothorax": 1,
        "Cardiomegaly": 1,
        "no pneumothorax": 1,
    }


def test_without_an_ontology_names_stay_as_they_are() -> None:
    mapped, table = harmonize_gold(gold("A", "b"), {"config": {}})
    assert mapped.rows == gold("A", "b").rows
    assert [r["method"] for r in table["columns"]] == ["as is", "as is"]
    assert table["unmatched"] == [] and "no ontology" in table["note"]


def test_the_build_ontology_comes_from_its_config() -> None:
    assert build_ontology(RUN) == ("chestxray14", "none")
    aggregate = {"config": {"aggregate": {"ontology": "chexpert"}}}
    assert build_ontology(aggregate) == ("chexpert", "none")
    miner = {"config": {"labelers": [{"name": "reports", "options": {"ontology": "x.yaml"}}]}}
    assert build_ontology(miner) == ("x.yaml", "none")
    assert build_ontology({}) == (None, "none")
