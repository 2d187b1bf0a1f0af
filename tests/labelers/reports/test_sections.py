"""Section headers and sentence boundaries."""

from __future__ import annotations

import random
import re

import pytest

from labelmill.labelers.reports.languages import load_language
from labelmill.labelers.reports.sections import (
    MAX_SENTENCE,
    UNKNOWN_SECTION,
    SectionSplitter,
    _after_break,
    _is_header,
    find_sections,
    split_sentences,
)


def sections(text: str) -> list[str]:
    return [name for name, _, _ in find_sections(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FINDINGS: clear. IMPRESSION: normal.", ["findings", "impression"]),
        ("Findings:\nclear\n\nImpression:\nnormal", ["findings", "impression"]),
        ("findings: clear", ["findings"]),
        ("FINDINGS\nclear lungs\nIMPRESSION\nnormal", ["findings", "impression"]),
        (
            "INDICATION: cough\nHISTORY: smoker\nTECHNIQUE: PA\nCOMPARISON: none\nFINDINGS: ok",
            ["indication", "history", "technique", "comparison", "findings"],
        ),
        ("Clinical history: fever. Reason for exam: cough.", ["history", "indication"]),
        ("Lungs clear. CONCLUSION: normal", ["unknown", "impression"]),
        ("No acute disease.", ["unknown"]),
    ],
)
def test_headers_in_any_case_with_or_without_colon(text: str, expected: list[str]) -> None:
    assert sections(text) == expected


def test_a_header_word_inside_prose_is_not_a_header() -> None:
    assert sections("History of smoking is noted. Findings are stable.") == ["unknown"]
    assert sections("FINDINGS: NO EFFUSION. HISTORY OF CABG. CARDIOMEGALY.") == ["findings"]
    assert sections("FINDINGS The heart is normal.") == ["findings"]


def test_sentences_split_at_periods_spaced_periods_and_blank_lines() -> None:
    text = (
        "FINDINGS: No effusion . Heart normal. A 1.5 cm nodule? Yes!\n\nLungs clear\nIMPRESSION: ok"
    )
    found = [(text[s.start : s.end], s.section) for s in split_sentences(text)]
    assert found == [
        ("No effusion .", "findings"),
        ("Heart normal.", "findings"),
        ("A 1.5 cm nodule?", "findings"),
        ("Yes!", "findings"),
        ("Lungs clear", "findings"),
        ("ok", "impression"),
    ]


def test_numbered_items_start_new_sentences() -> None:
    text = "IMPRESSION:\n1. Cardiomegaly\n2. No effusion"
    assert [text[s.start : s.end] for s in split_sentences(text)] == [
        "1.",
        "Cardiomegaly",
        "2.",
        "No effusion",
    ]


def test_run_on_text_is_cut_into_bounded_pieces() -> None:
    text = "word " * (3 * MAX_SENTENCE)
    pieces = split_sentences(text)
    assert len(pieces) > 1 and all(s.end - s.start <= MAX_SENTENCE for s in pieces)
    assert text[pieces[0].start : pieces[0].end].startswith("word word")


def reference_sections(splitter: SectionSplitter, text: str) -> list[tuple[str, int, int]]:
    """The straightforward header search: every header word anywhere, then the same checks."""
    names = "|".join(
        re.escape(s).replace("\\ ", r"[ \t]+") for s in sorted(splitter._section_of, key=len)[::-1]
    )
    header = re.compile(
        rf"(?P<name>{names})(?:[ \t]*(?P<colon>:)|[ \t]+(?P<dash>[-\u2013\u2014]+)(?=[ \t]))?[ \t]*"
    )
    spans, current, body_start = [], UNKNOWN_SECTION, 0
    for match in header.finditer(text.lower()):
        name_start, name_end = match.span("name")
        punctuated = bool(match.group("colon") or match.group("dash"))
        if _after_break(text, name_start) and _is_header(
            text, name_start, name_end, match.end(), punctuated
        ):
            spans.append((current, body_start, name_start))
            current = splitter._section_of[" ".join(match.group("name").split())]
            body_start = match.end()
    spans.append((current, body_start, len(text)))
    return [span for span in spans if text[span[1] : span[2]].strip()]


@pytest.mark.parametrize("language", ["en", "es"])
def test_header_scan_equals_the_straightforward_search(language: str) -> None:
    """The scan that starts at break characters finds what a search of every position finds."""
    splitter = SectionSplitter(load_language(language).sections)
    headers = [h for spellings in splitter.headers.values() for h in spellings]
    pieces = ["no effusion", "HEART", "x", ".", ". ", ";", "?", "\n", "\n\n", " ", "\t", ":", " - "]
    rng = random.Random(7)
    for _ in range(3000):
        words = [
            rng.choice([rng.choice(headers), rng.choice(headers).upper(), rng.choice(pieces)])
            for _ in range(rng.randint(1, 12))
        ]
        text = "".join(w if rng.random() < 0.5 else w + " " for w in words)
        assert splitter.find_sections(text) == reference_sections(splitter, text), repr(text)
