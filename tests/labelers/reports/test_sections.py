"""Section headers and sentence boundaries."""

from __future__ import annotations

import pytest

from labelmill.labelers.reports.sections import MAX_SENTENCE, find_sections, split_sentences


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
