"""Section headers and sentence boundaries of a radiology report, as character spans.

Reports are split with regular expressions rather than a statistical parser: headers and
sentence ends in reports are regular ("FINDINGS:", ". ", " . ", blank lines), and a regex pass
keeps the miner at thousands of reports per second. Spans index the original text, so evidence
offsets point at what the radiologist wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from labelmill.labelers.reports.languages import DEFAULT_LANGUAGE, load_language
from labelmill.labelers.reports.scanner import trie

UNKNOWN_SECTION = "unknown"
MAX_SENTENCE = 1000  # characters; real report sentences are far shorter
# Sentence ends: terminal punctuation after a word, before whitespace or the end (not "1.5", not
# the "?" of "? effusion"), a period set apart by spaces (" . "), a blank line, or a line that
# opens a numbered or bulleted item.
# (One leading character class, so that `re` skips to candidate characters at C speed.)
_SENTENCE_END = re.compile(
    r"[.!?\n](?:(?<=\S[.!?])(?=\s|$)|(?<=\s\.)|(?<=\n)[ \t]*\n"
    r"|(?<=\n)(?=[ \t]*(?:\d+[.)]|[-*\u2022])))"
)


_ALNUM = re.compile(r"[^\W_]|_")


class Sentence(NamedTuple):
    """One sentence: its span in the report and the section it belongs to (a tuple: cheap to
    make, and a report has many)."""

    start: int
    end: int
    section: str
    order: int = 0  # the sentence's place in its section, from 0
    paragraph: int = 0  # blank lines between the section's first words and this sentence


class SectionSplitter:
    """One language's section headers, compiled once: `split` cuts a report into sentences."""

    def __init__(self, headers: Mapping[str, Sequence[str]]) -> None:
        self.headers = {name: tuple(spellings) for name, spellings in headers.items()}
        self._section_of = {
            " ".join(spelling.lower().split()): name
            for name, spellings in self.headers.items()
            for spelling in spellings
        }
        names = trie(sorted(self._section_of)).replace("\\ ", r"[ \t]+")
        # A header starts a line or follows a sentence end (`_after_break`), and may end in a
        # colon or a dash; `_is_header` decides whether it really is one. The scan starts at the
        # break character before it (the text is scanned with a newline put in front), so that
        # `re` skips at C speed to the few characters that can precede a header; matched in
        # lowercased text.
        self._header = re.compile(
            rf"[\n.!?;][ \t]*(?P<name>{names})"
            rf"(?:[ \t]*(?P<colon>:)|[ \t]+(?P<dash>[-\u2013\u2014]+)(?=[ \t]))?[ \t]*"
        )

    def find_sections(self, text: str) -> list[tuple[str, int, int]]:
        """(section, body start, body end) spans covering the report after each header.

        Text before the first header belongs to the `unknown` section, which counts as findings.
        """
        spans: list[tuple[str, int, int]] = []
        current, body_start = UNKNOWN_SECTION, 0
        for match in self._header.finditer("\n" + fold_case(text)):
            name_start, name_end = match.start("name") - 1, match.end("name") - 1
            end, punctuated = match.end() - 1, bool(match.group("colon") or match.group("dash"))
            if not _after_break(text, name_start) or not _is_header(
                text, name_start, name_end, end, punctuated
            ):
                continue
            spans.append((current, body_start, name_start))
            current = self._section_of[" ".join(match.group("name").split())]
            body_start = end
        spans.append((current, body_start, len(text)))
        return [span for span in spans if text[span[1] : span[2]].strip()]

    def split(self, text: str) -> list[Sentence]:
        """Split a report into sentences, never across a section header."""
        sentences: list[Sentence] = []
        for section, start, end in self.find_sections(text):
            cursor, first, paragraph = start, len(sentences), 0
            for match in _SENTENCE_END.finditer(text, start, end):
                stop = match.end()
                _append_stripped(sentences, text, cursor, stop, section, first, paragraph)
                cursor = stop
                if text[match.start()] == "\n" and len(sentences) > first:
                    paragraph += text.count("\n", match.start(), stop) > 1
            _append_stripped(sentences, text, cursor, end, section, first, paragraph)
        return sentences


def fold_case(text: str) -> str:
    """Lowercase without changing length, so that offsets in the folded text fit the original."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def _after_break(text: str, start: int) -> bool:
    """Whether `start` opens a line (after spaces) or follows a sentence end and a space."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] == "\n" or (i < start and text[i - 1] in ".!?;")


def _is_header(text: str, name_start: int, name_end: int, end: int, punctuated: bool) -> bool:
    """A header word counts with a colon or a dash, alone on its line, or in capitals before prose.

    "FINDINGS The heart..." is a header; "NO EFFUSION. HISTORY OF CABG." in an all-capitals
    report is not, since what follows is in capitals too.
    """
    if punctuated:
        return True
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end < 0 else line_end]
    if not rest.strip():
        return True
    return text[name_start:name_end].isupper() and any(ch.islower() for ch in rest)


def _append_stripped(
    out: list[Sentence],
    text: str,
    start: int,
    end: int,
    section: str,
    first: int = 0,
    paragraph: int = 0,
) -> None:
    """Add the span without surrounding whitespace, if anything but punctuation is left.

    A run-on "sentence" longer than MAX_SENTENCE is cut at a space, which keeps the cost of
    matching triggers to mentions linear in the length of even a pathological report.
    """
    segment = text[start:end]
    body = segment.strip()
    if not body:
        return
    start += len(segment) - len(segment.lstrip())
    end = start + len(body)
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE)
        cut = start + MAX_SENTENCE if cut < 0 else cut
        _append_stripped(out, text, start, cut, section, first, paragraph)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if _ALNUM.search(text, start, end):
        out.append(Sentence(start, end, section, len(out) - first, paragraph))


@lru_cache(maxsize=1)
def _english_splitter() -> SectionSplitter:
    return SectionSplitter(load_language(DEFAULT_LANGUAGE).sections)


def find_sections(text: str) -> list[tuple[str, int, int]]:
    """English section spans; see `SectionSplitter.find_sections`."""
    return _english_splitter().find_sections(text)


def split_sentences(text: str) -> list[Sentence]:
    """English sentences; see `SectionSplitter.split`."""
    return _english_splitter().split(text)
