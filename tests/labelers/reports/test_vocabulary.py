"""Phrases to regexes, and every label's phrases in one scan."""

from __future__ import annotations

import re

from labelmill.labelers.reports.vocabulary import Vocabulary, compile_concept, phrase_to_regex
from labelmill.schemas.ontology import Concept, load_ontology


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


def test_one_scan_finds_what_each_label_alone_finds() -> None:
    """The combined scan against one regex per label, on phrases of different labels."""
    ontology = load_ontology("chestxray14")
    vocabulary = Vocabulary(ontology.concepts)
    separate = [compile_concept(c) for c in ontology.concepts]
    phrases = [(c.name, p) for c in ontology.concepts for p in c.synonyms[:3]]
    for (label_a, a), (label_b, b) in zip(phrases, phrases[7:] + phrases[:7], strict=True):
        if label_a == label_b:
            continue
        text = f"small {a.lower()} and a right {b.lower()} today."
        combined = {(s, e, label) for s, e, roles in vocabulary.scan(text) for label, _ in roles}
        alone = {
            (m.start(), m.end(), patterns.label)
            for patterns in separate
            for regex in (patterns.mention, patterns.exclusion, patterns.normal)
            if regex is not None
            for m in regex.finditer(text)
        }
        assert combined == alone, text


def test_shared_phrases_carry_every_label() -> None:
    vocabulary = Vocabulary(
        [
            Concept("Effusion", synonyms=("hydropneumothorax",)),
            Concept("Pneumothorax", synonyms=("hydropneumothorax",)),
        ]
    )
    tokens = vocabulary.scan("left hydropneumothorax")
    assert [roles for _, _, roles in tokens] == [
        (("Effusion", "mention"), ("Pneumothorax", "mention"))
    ]
