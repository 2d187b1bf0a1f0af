"""An ontology's phrases compiled into one regex for all labels, scanned once per report.

Phrases from the YAML become word-bounded regexes over lowercased text: any run of whitespace or
a hyphen may sit between words, and mention phrases also match their plural. Compiling once per
worker is what makes matching cheap per report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labelmill.schemas.ontology import Concept

_WORD_GAP = r"[\s\-]+"
_LEFT, _RIGHT = r"(?<![a-z0-9])", r"(?![a-z0-9])"


def phrase_to_regex(phrase: str, plural: bool = False) -> str:
    """A literal phrase as a regex: case already folded, flexible gaps, optional plural ending."""
    words = phrase.lower().replace("-", " ").split()
    body = _WORD_GAP.join(re.escape(word) for word in words)
    return body + ("(?:s|es)?" if plural else "")


def _top_level_split(group: str) -> list[str]:
    """The alternatives of a group body, split at "|" outside nested groups."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(group):
        if ch == "\\":
            continue
        depth += (ch == "(") - (ch == ")")
        if ch == "|" and depth == 0:
            parts.append(group[start:i])
            start = i + 1
    parts.append(group[start:])
    return parts


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can start with, or None when that is not simple.

    Handles what vocabularies use: a literal letter, or a leading non-optional "(?:a|b)" group
    whose alternatives start with letters; anything else (escapes, optional groups) is None.
    """
    head, quantified = pattern[:1], pattern[1:2] in ("?", "*", "+", "{")
    if (head.isalpha() or head in ";:") and not quantified:
        return frozenset(head)
    if not pattern.startswith("(?:"):
        return None
    depth = 0
    for end, ch in enumerate(pattern):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and end > 0 and pattern[end - 1] != "\\":
            break
    if pattern[end + 1 : end + 2] in ("?", "*", "{"):
        return None
    chars: set[str] = set()
    for alternative in _top_level_split(pattern[3:end]):
        found = first_chars(alternative)
        if found is None:
            return None
        chars |= found
    return frozenset(chars)


def bucketed(patterns: Sequence[str], names: Sequence[str] | None = None) -> str:
    """One alternation of `patterns`, tried in the given order, bucketed by first character.

    Python's `re` tries every branch of an alternation at every position; behind a one-character
    lookahead per bucket it tries only the patterns that can start there, which makes scanning
    several times faster. Each bucket keeps the given order (a pattern whose first characters are
    unknown goes into every bucket), so what matches is exactly what the plain alternation
    matches. With `names`, each copy of pattern i is the group `{names[i]}_{n}`.
    """
    starts = [first_chars(p) for p in patterns]
    chars = sorted(set().union(*(s for s in starts if s is not None)))
    copies = iter(range(len(patterns) * (len(chars) + 1)))

    def branch(indices: list[int]) -> str:
        forms = [
            f"(?P<{names[i]}_{next(copies)}>{patterns[i]})" if names else f"(?:{patterns[i]})"
            for i in indices
        ]
        return "(?:" + "|".join(forms) + ")"

    parts = []
    for c in chars:
        indices = [i for i, s in enumerate(starts) if s is None or c in s]
        parts.append(f"(?={re.escape(c)}){branch(indices)}")
    unknown = [i for i, s in enumerate(starts) if s is None]
    if unknown:
        others = "".join(re.escape(c) for c in chars)
        parts.append((f"(?![{others}])" if others else "") + branch(unknown))
    return "(?:" + "|".join(parts) + ")"


MENTION, GAPPED, EXCLUSION, NORMAL = "mention", "gapped", "exclusion", "normal"


def _compile(alternatives: Iterable[str]) -> re.Pattern[str] | None:
    """One bounded alternation, longest first so that "pleural effusion" beats "effusion"."""
    unique = sorted(set(alternatives), key=lambda pattern: (-len(pattern), pattern))
    if not unique:
        return None
    return re.compile(_LEFT + bucketed(unique) + _RIGHT)


def concept_alternatives(concept: Concept, name_is_phrase: bool = True) -> list[tuple[str, str]]:
    """(regex, role) for every phrase and pattern of a concept.

    Its name (underscores as spaces) counts as a mention phrase in the ontology's own language;
    a mention from a regex pattern is `GAPPED` (triggers inside it, "heart is not enlarged",
    count).
    """
    names = [concept.name.replace("_", " ")] if name_is_phrase else []
    found = [(phrase_to_regex(p, plural=True), MENTION) for p in (*names, *concept.synonyms)]
    found += [(phrase_to_regex(p), MENTION) for p in concept.abbreviations]
    found += [(p, GAPPED) for p in concept.patterns]
    found += [(phrase_to_regex(p, plural=True), EXCLUSION) for p in concept.exclusions]
    found += [(p, EXCLUSION) for p in concept.exclusion_patterns]
    found += [(phrase_to_regex(p), NORMAL) for p in concept.normal]
    found += [(p, NORMAL) for p in concept.normal_patterns]
    return found


@dataclass(frozen=True)
class LabelPatterns:
    """The compiled patterns of one label; `None` where the ontology gives none."""

    label: str
    mention: re.Pattern[str] | None
    exclusion: re.Pattern[str] | None
    normal: re.Pattern[str] | None


def compile_concept(concept: Concept, name_is_phrase: bool = True) -> LabelPatterns:
    """One concept's mention, exclusion and normal patterns, each a regex of its own."""
    found = concept_alternatives(concept, name_is_phrase)

    def pick(*roles: str) -> re.Pattern[str] | None:
        return _compile(p for p, role in found if role in roles)

    return LabelPatterns(concept.name, pick(MENTION, GAPPED), pick(EXCLUSION), pick(NORMAL))


Role = tuple[str, str]  # (label, MENTION | GAPPED | EXCLUSION | NORMAL)


class Vocabulary:
    """Every label's phrases and patterns as one alternation, scanned once per report.

    A match is a token: the longest pattern wins at each position, so an exclusion
    ("pericardial effusion") hides the mention inside it, and a phrase that several labels share
    ("hydropneumothorax") carries all of their roles. Compiled once per worker.
    """

    def __init__(self, concepts: Sequence[Concept], name_is_phrase: bool = True) -> None:
        roles: dict[str, list[Role]] = {}
        for concept in concepts:
            for pattern, role in concept_alternatives(concept, name_is_phrase):
                if (concept.name, role) not in roles.setdefault(pattern, []):
                    roles[pattern].append((concept.name, role))
        ordered = sorted(roles, key=lambda pattern: (-len(pattern), pattern))
        self._roles = [tuple(roles[p]) for p in ordered]
        self._regex = (
            re.compile(_LEFT + bucketed(ordered, [f"v{i}" for i in range(len(ordered))]) + _RIGHT)
            if ordered
            else None
        )

    def scan(self, lowered: str) -> list[tuple[int, int, tuple[Role, ...]]]:
        """(start, end, roles) of every token in the lowercased report, left to right."""
        if self._regex is None:
            return []
        roles = self._roles
        return [
            (m.start(), m.end(), roles[int(m.lastgroup[1:].partition("_")[0])])
            for m in self._regex.finditer(lowered)
        ]
