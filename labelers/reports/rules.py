"""A language's trigger vocabulary compiled into one regular expression, scanned once per sentence.

A trigger has a kind (what it does to a finding), a direction (which side of it it reaches) and a
window in words; the vocabulary itself is data (`lang/*.yaml`, see `languages`). Pseudo-triggers
("no change") are found so that the words inside them do not act as triggers, unless they
overlap the finding itself; terminators ("but") end the scope of every trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labelmill.labelers.reports.languages import (
    BACKWARD,
    BOTH,
    FORWARD,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    PROBABLE,
    PSEUDO,
    RESOLVED,
    TERMINATOR,
    UNCERTAIN,
    Language,
    TriggerRule,
)
from labelmill.labelers.reports.vocabulary import bucketed

__all__ = [
    "BACKWARD",
    "BOTH",
    "FORWARD",
    "HISTORICAL",
    "HYPOTHETICAL",
    "NEGATED",
    "PROBABLE",
    "PSEUDO",
    "RESOLVED",
    "TERMINATOR",
    "UNCERTAIN",
    "Trigger",
    "TriggerMatcher",
]


@dataclass(frozen=True)
class Trigger:
    """One trigger found in a report: its span, what it does and how far it reaches."""

    start: int
    end: int
    kind: str
    direction: str
    window: int
    text: str
    weak: bool = False


def _alternation(rules: tuple[TriggerRule, ...], keep_pseudo: bool) -> re.Pattern[str]:
    """All patterns as one alternation, longest first; named groups tell which rule matched.

    Word patterns are bounded by non-word characters; punctuation patterns ("?", ";") are not,
    so that "nodule?" and "effusion;" trigger.
    """
    alternatives: list[tuple[str, str]] = []
    for i, rule in enumerate(rules):
        if rule.kind == PSEUDO and not keep_pseudo:
            continue
        alternatives.extend((pattern, f"r{i}") for pattern in rule.patterns)
    alternatives.sort(key=lambda item: len(item[0]), reverse=True)
    words = [a for a in alternatives if not _punctuation(a[0])]
    marks = [a for a in alternatives if _punctuation(a[0])]
    body = r"(?<![\w/])" + bucketed([p for p, _ in words], [g for _, g in words]) + r"(?![\w/])"
    if marks:
        body = bucketed([p for p, _ in marks], [f"{g}p" for _, g in marks]) + "|" + body
    return re.compile(body)


def _punctuation(pattern: str) -> bool:
    head = pattern[1:2] if pattern.startswith("\\") else pattern[:1]
    return not (head.isalnum() or head in "(")


class TriggerMatcher:
    """A language's trigger rules, compiled once: `find` lists the triggers of a span."""

    def __init__(self, language: Language) -> None:
        self.rules = language.triggers
        self.max_window = max(rule.window for rule in self.rules)
        self._regex = _alternation(self.rules, keep_pseudo=True)
        self._inner = _alternation(self.rules, keep_pseudo=False)

    def find(self, lowered: str, start: int = 0, end: int | None = None) -> list[Trigger]:
        """Triggers in lowered[start:end], left to right, pseudo-triggers included."""
        return self._scan(self._regex, lowered, start, len(lowered) if end is None else end)

    def inside(self, lowered: str, start: int, end: int) -> list[Trigger]:
        """The real triggers within a pseudo-trigger's span, for when it overlaps a finding."""
        return self._scan(self._inner, lowered, start, end)

    def _scan(self, regex: re.Pattern[str], lowered: str, start: int, end: int) -> list[Trigger]:
        found: list[Trigger] = []
        for match in regex.finditer(lowered, start, end):
            rule = self.rules[int(match.lastgroup[1:].split("_")[0].rstrip("p"))]
            found.append(
                Trigger(
                    match.start(),
                    match.end(),
                    rule.kind,
                    rule.direction,
                    rule.window,
                    match.group(),
                    rule.weak,
                )
            )
        return found
