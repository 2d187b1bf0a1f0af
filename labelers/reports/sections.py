"""Section headers and sentence boundaries of a radiology report, as character spans.

Reports are split with regular expressions rather than a statistical parser: headers and
sentence ends in reports are regular ("FINDINGS:", ". ", " . ", blank lines), and a regex pass
keeps the miner at thousands of reports per second. Spans index the original text, so evidence
offsets point at what the radiologist wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Canonical section name -> header spellings (lowercase; whitespace between words is flexible).
SECTION_HEADERS: dict[str, tuple[str, ...]] = {
    "findings": ("findings", "finding", "report", "description"),
    "impression": ("impression", "impressions", "conclusion", "conclusions", "summary", "opinion"),
    "indication": (
        "indication",
        "indications",
        "reason for exam",
        "reason for examination",
        "reason for study",
        "clinical indication",
        "clinical information",
        "clinical data",
    ),
    "history": ("history", "clinical history", "medical history", "patient history"),
    "comparison": ("comparison", "comparisons", "prior studies", "prior study"),
    "technique": ("technique", "examination", "exam", "procedure"),
}
UNKNOWN_SECTION = "unknown"
MAX_SENTENCE = 1000  # characters; real report sentences are far shorter

_SPELLING_TO_SECTION = {
    spelling: name for name, spellings in SECTION_HEADERS.items() for spelling in spellings
}
_HEADER_ALTERNATION = "|".join(
    r"[ \t]+".join(re.escape(word) for word in spelling.split())
    for spelling in sorted(_SPELLING_TO_SECTION, key=len, reverse=True)
)
# A header starts a line or follows a sentence end; the caller decides whether it really is one.
_HEADER = re.compile(
    rf"(?:^|(?<=[.!?;])[ \t]+)[ \t]*(?P<name>{_HEADER_ALTERNATION})[ \t]*(?P<colon>:)?",
    re.IGNORECASE | re.MULTILINE,
)
# Sentence ends: terminal punctuation before whitespace or the end (not "1.5"), a period set
# apart by spaces (" . "), a blank line, or a line that opens a numbered or bulleted item.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|(?<=\s)\.|\n[ \t]*\n|\n(?=[ \t]*(?:\d+[.)]|[-*\u2022]))")


@dataclass(frozen=True)
class Sentence:
    """One sentence: its span in the report and the section it belongs to."""

    start: int
    end: int
    section: str


def _is_header(text: str, match: re.Match[str]) -> bool:
    """A header word counts with a colon, alone on its line, or in capitals before prose.

    "FINDINGS The heart..." is a header; "NO EFFUSION. HISTORY OF CABG." in an all-capitals
    report is not, since what follows is in capitals too.
    """
    if match.group("colon"):
        return True
    line_end = text.find("\n", match.end())
    rest = text[match.end() : len(text) if line_end < 0 else line_end]
    if not rest.strip():
        return True
    return match.group("name").isupper() and any(ch.islower() for ch in rest)


def find_sections(text: str) -> list[tuple[str, int, int]]:
    """Return (section, body start, body end) spans covering the report after each header.

    Text before the first header belongs to the `unknown` section, which counts as findings.
    """
    spans: list[tuple[str, int, int]] = []
    current, body_start = UNKNOWN_SECTION, 0
    for match in _HEADER.finditer(text):
        if not _is_header(text, match):
            continue
        spans.append((current, body_start, match.start("name")))
        current = _SPELLING_TO_SECTION[" ".join(match.group("name").lower().split())]
        body_start = match.end()
    spans.append((current, body_start, len(text)))
    return [span for span in spans if text[span[1] : span[2]].strip()]


def split_sentences(text: str) -> list[Sentence]:
    """Split a report into sentences, never across a section header."""
    sentences: list[Sentence] = []
    for section, start, end in find_sections(text):
        cursor = start
        for match in _SENTENCE_END.finditer(text, start, end):
            _append_stripped(sentences, text, cursor, match.end(), section)
            cursor = match.end()
        _append_stripped(sentences, text, cursor, end, section)
    return sentences


def _append_stripped(out: list[Sentence], text: str, start: int, end: int, section: str) -> None:
    """Add the span without surrounding whitespace, if anything but punctuation is left.

    A run-on "sentence" longer than MAX_SENTENCE is cut at a space, which keeps the cost of
    matching triggers to mentions linear in the length of even a pathological report.
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE)
        cut = start + MAX_SENTENCE if cut < 0 else cut
        _append_stripped(out, text, start, cut, section)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if any(ch.isalnum() for ch in text[start:end]):
        out.append(Sentence(start, end, section))
