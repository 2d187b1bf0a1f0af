"""Phrases to regexes, and the first-character bucketing that keeps scans fast."""

from __future__ import annotations

import re

from labelmill.labelers.reports.scanner import bucketed
from labelmill.labelers.reports.vocabulary import compile_concept, phrase_to_regex
from labelmill.schemas.ontology import Concept


def test_phrases_allow_flexible_gaps_and_plurals() -> None:
    pattern = re.compile(phrase_to_regex("Pleural Effusion", plural=True))
    for text in ("pleural effusion", "pleural\n  effusions", "pleural-effusion"):
        assert pattern.fullmatch(text), text
    assert not re.fullmatch(phrase_to_regex("ptx"), "ptxs")


def test_concept_matches_words_not_parts_of_words() -> None:
    patterns = compile_concept(
        Concept(name="Mass", synonyms=("mass",), exclusions=("mass effect",), normal=("no mass",))
    )
    text = "a mass, masses, massive, amass, mass effect"
    assert [m.group() for m in patterns.mention.finditer(text)] == ["mass", "masses", "mass"]
    assert [m.group() for m in patterns.exclusion.finditer(text)] == ["mass effect"]
    assert patterns.normal.search("there is no mass")


def test_concept_name_is_a_mention_and_missing_lists_compile_to_none() -> None:
    patterns = compile_concept(Concept(name="Pleural_Thickening"))
    assert patterns.mention.search("mild pleural thickening")
    assert patterns.exclusion is None and patterns.normal is None


def test_bucketing_matches_what_the_plain_alternation_matches() -> None:
    patterns = ["no evidence of", "(?:is|are) not", "(?:is )?absent", "no", "x", r"\d+ cm", ";"]
    plain = re.compile("|".join(f"(?:{p})" for p in patterns))
    fast = re.compile(bucketed(patterns))
    text = "no evidence of effusion; is absent, absent, are not 3 cm xylophone"
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
    named = re.compile(bucketed(["(?:no|not) seen", "no"], ["r2", "r1"]))
    assert named.match("not seen").lastgroup.split("_")[0] == "r2"
    assert named.match("no effusion").lastgroup.split("_")[0] == "r1"
