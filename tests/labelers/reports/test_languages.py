"""Languages as data files: loading, validation, and a new language without new code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labelmill.labelers.reports.engine import ReportEngine
from labelmill.labelers.reports.languages import (
    LanguageError,
    available_languages,
    load_language,
    parse_language,
)
from labelmill.labelers.reports.rules import NEGATED, TriggerMatcher
from labelmill.schemas.ontology import OntologyError, parse_ontology

MINIMAL = {
    "language": "xx",
    "sections": {"findings": ["befund"]},
    "triggers": [{"kind": "negated", "direction": "forward", "patterns": ["kein\\w*"]}],
}


def test_shipped_languages_load() -> None:
    assert {"en", "es"} <= set(available_languages())
    for code in ("en", "es"):
        language = load_language(code)
        assert language.code == code and "findings" in language.sections
        assert any(rule.kind == NEGATED for rule in language.triggers)


@pytest.mark.parametrize("code", ["fr", "../en", "EN", "", "en.yaml"])
def test_unknown_or_unsafe_codes_are_refused(code: str) -> None:
    with pytest.raises(LanguageError, match="unknown report language"):
        load_language(code)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"triggers": [{"kind": "maybe", "direction": "forward", "patterns": ["x"]}]}, "kind"),
        ({"triggers": [{"kind": "negated", "direction": "up", "patterns": ["x"]}]}, "direction"),
        (
            {
                "triggers": [
                    {"kind": "negated", "direction": "both", "window": 0, "patterns": ["x"]}
                ]
            },
            "window",
        ),
        ({"triggers": [{"kind": "negated", "direction": "both", "patterns": ["(x"]}]}, "invalid"),
        ({"triggers": [{"kind": "negated", "direction": "both", "patterns": ["(x)"]}]}, "(?:"),
        ({"triggers": [{"kind": "negated", "direction": "both", "patterns": []}]}, "patterns"),
        ({"sections": []}, "sections"),
        ({"finding_openers": ["(x"]}, "finding_openers"),
        ({"locations": ["left"]}, "locations must map axes"),
        ({"locations": {"side": ["left"]}}, "locations.side must map values"),
        ({"locations": {"side": {"left": "left"}}}, "locations.side.left must be a list"),
        ({"locations": {"side": {"left": ["(left)"]}}}, "(?:"),
        ({"location_breaks": ["(x"]}, "location_breaks"),
    ],
)
def test_bad_language_files_name_the_field(change: dict, message: str) -> None:
    with pytest.raises(LanguageError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_language({**MINIMAL, **change}, "lang/xx.yaml")


def test_a_new_language_is_data_only(tmp_path: Path) -> None:
    (tmp_path / "de.yaml").write_text(yaml.safe_dump({**MINIMAL, "language": "de"}), "utf-8")
    ontology = parse_ontology(
        {
            "name": "t",
            "labels": [{"name": "Effusion"}],
            "languages": {"de": {"Effusion": {"patterns": ["erguss\\w*"]}}},
        }
    )
    engine = ReportEngine(ontology, language=str(tmp_path / "de.yaml"))
    assert engine.label("Befund: kein Erguss. Effusion.").labels == {"Effusion": 0}
    assert [t.kind for t in TriggerMatcher(engine.language).find("keine")] == [NEGATED]
    with pytest.raises(LanguageError, match="unknown report language"):
        load_language(str(tmp_path / "missing.yaml"))


def test_language_errors_read_like_ontology_errors() -> None:
    assert issubclass(LanguageError, OntologyError)
