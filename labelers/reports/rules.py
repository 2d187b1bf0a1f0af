"""A language's trigger vocabulary compiled into one regular expression, scanned once per sentence.

A trigger has a kind (what it does to a finding), a direction (which side of it it reaches) and a
window in words; the vocabulary itself is data (`lang/*.yaml`, see `languages`). Pseudo-triggers
("no change") are found so that the words inside them do not act as triggers, unless they
overlap the finding itself; terminators ("but") end the scope of every trigger.
"""

from __future__ import annotations

import re
from typing import NamedTuple

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
from labelmill.labelers.reports.scanner import TokenScanner

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


class Trigger(NamedTuple):
    """One trigger found in a report: its span, what it does and how far it reaches (a tuple:
    a report has many, and a frozen dataclass costs several times as much to make)."""

    start: int
    end: int
    kind: str
    direction: str
    window: int
    text: str
    weak: bool = False


def _scanner(rules: tuple[TriggerRule, ...], keep_pseudo: bool) -> TokenScanner[TriggerRule]:
    """All patterns as one alternation, longest first, resolved to their rule after a match.

    Word patterns are bounded by non-word characters; punctuation patterns ("?", ";") are not,
    so that "nodule?" and "effusion;" trigger.
    """
    alternatives = [
        (pattern, (rule,), (pattern,) if _literal(pattern) else ())
        for rule in rules
        if keep_pseudo or rule.kind != PSEUDO
        for pattern in rule.patterns
    ]
    alternatives.sort(key=lambda item: len(item[0]), reverse=True)
    return TokenScanner(alternatives, _EDGE, _EDGE, pool=False, literal_trie=True)


# Never between two word characters: a word pattern starts and ends at word boundaries, while
# punctuation ("?", ";") may touch a word.
_EDGE = r"(?!(?<=[\w/])[\w/])"


def _literal(pattern: str) -> bool:
    """A pattern that matches exactly its own text ("no", "negative for", ";")."""
    return re.escape(pattern).replace("\\ ", " ") == pattern


class TriggerMatcher:
    """A language's trigger rules, compiled once: `find` lists the triggers of a span."""

    def __init__(self, language: Language) -> None:
        self.rules = language.triggers
        self.max_window = max(rule.window for rule in self.rules)
        self._all = _scanner(self.rules, keep_pseudo=True)
        self._inner = _scanner(self.rules, keep_pseudo=False)

    def find(self, lowered: str, start: int = 0, end: int | None = None) -> list[Trigger]:
        """Triggers in lowered[start:end], left to right, pseudo-triggers included."""
        return _triggers(self._all, lowered, start, end)

    def inside(self, lowered: str, start: int, end: int) -> list[Trigger]:
        """The real triggers within a pseudo-trigger's span, for when it overlaps a finding."""
        return _triggers(self._inner, lowered, start, end)


def _triggers(
    scanner: TokenScanner[TriggerRule], lowered: str, start: int, end: int | None
) -> list[Trigger]:
    found = []
    for match_start, match_end, (rule,) in scanner.scan(lowered, start, end):
        text = lowered[match_start:match_end]
        found.append(
            Trigger(match_start, match_end, rule.kind, rule.direction, rule.window, text, rule.weak)
        )
    return found
