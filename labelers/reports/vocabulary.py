"""An ontology's phrases compiled into one regex for all labels, scanned once per report.

Phrases from the YAML become word-bounded regexes over lowercased text: any run of whitespace or
a hyphen may sit between words, and mention phrases also match their plural. Compiling once per
worker is what makes matching cheap per report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def phrase_keys(phrase: str, plural: bool = False) -> tuple[str, ...]:
    """The texts (gaps normalised to one space) that `phrase_to_regex(phrase, plural)` matches."""
    key = " ".join(phrase.lower().replace("-", " ").split())
    return (key, key + "s", key + "es") if plural else (key,)


def concept_alternatives(
    concept: Concept, name_is_phrase: bool = True
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(regex, role, literal texts) for every phrase and pattern of a concept.

    Its name (underscores as spaces) counts as a mention phrase in the ontology's own language;
    a mention from a regex pattern is `GAPPED` (triggers inside it, "heart is not enlarged",
    count). Literal texts are empty for patterns.
    """
    names = [concept.name.replace("_", " ")] if name_is_phrase else []
    phrases = [(p, MENTION, True) for p in (*names, *concept.synonyms)]
    phrases += [(p, MENTION, False) for p in concept.abbreviations]
    phrases += [(p, EXCLUSION, True) for p in concept.exclusions]
    phrases += [(p, NORMAL, False) for p in concept.normal]
    found = [(phrase_to_regex(p, plural), role, phrase_keys(p, plural)) for p, role, plural in phrases]
    found += [(p, GAPPED, ()) for p in concept.patterns]
    found += [(p, EXCLUSION, ()) for p in concept.exclusion_patterns]
    found += [(p, NORMAL, ()) for p in concept.normal_patterns]
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
        return _compile(p for p, role, _ in found if role in roles)

    return LabelPatterns(concept.name, pick(MENTION, GAPPED), pick(EXCLUSION), pick(NORMAL))


Payload = TypeVar("Payload")
_GAP = re.compile(_WORD_GAP)


class TokenScanner(Generic[Payload]):
    """Many alternatives as one regex without groups, and which alternative made each match.

    Python's `re` slows down by an order of magnitude with a named group per alternative, so
    the scan has none; a match is resolved afterwards, by its text for literal phrases (a dict
    lookup: a literal matches the same text anywhere) and by re-trying the patterns in order
    otherwise, which is what the alternation itself does. Alternatives come in priority order;
    literals that match the same text pool their payloads when `pool` is set.
    """

    def __init__(
        self,
        alternatives: Sequence[tuple[str, tuple[Payload, ...], tuple[str, ...]]],
        left: str = _LEFT,
        right: str = _RIGHT,
        pool: bool = True,
    ) -> None:
        self._literal: dict[str, tuple[Payload, ...]] = {}
        self._patterns: list[tuple[re.Pattern[str], tuple[Payload, ...]]] = []
        for pattern, payload, keys in alternatives:
            for key in keys:
                known = self._literal.get(key)
                if known is None:
                    self._literal[key] = payload
                elif pool:
                    self._literal[key] = known + tuple(p for p in payload if p not in known)
            if not keys:
                self._patterns.append((re.compile(f"(?:{pattern}){right}"), payload))
        body = bucketed([pattern for pattern, _, _ in alternatives]) if alternatives else "(?!)"
        self._regex = re.compile(left + body + right)

    def scan(
        self, text: str, start: int = 0, end: int | None = None
    ) -> list[tuple[int, int, tuple[Payload, ...]]]:
        """(start, end, payloads) of every match in text[start:end], left to right."""
        found = []
        for match in self._regex.finditer(text, start, len(text) if end is None else end):
            payload = self._resolve(text, match.start(), match.end())
            if payload:
                found.append((match.start(), match.end(), payload))
        return found

    def _resolve(self, text: str, start: int, end: int) -> tuple[Payload, ...]:
        literal = self._literal.get(_GAP.sub(" ", text[start:end]))
        if literal is not None:
            return literal
        for pattern, payload in self._patterns:
            match = pattern.match(text, start)
            if match is not None and match.end() == end:
                return payload
        return ()


Role = tuple[str, str]  # (label, MENTION | GAPPED | EXCLUSION | NORMAL)


class Vocabulary:
    """Every label's phrases and patterns as one alternation, scanned once per report.

    A match is a token: the longest pattern wins at each position, so an exclusion
    ("pericardial effusion") hides the mention inside it, and a phrase that several labels share
    ("hydropneumothorax") carries all of their roles. Compiled once per worker.
    """

    def __init__(self, concepts: Sequence[Concept], name_is_phrase: bool = True) -> None:
        merged: dict[str, tuple[list[Role], tuple[str, ...]]] = {}
        for concept in concepts:
            for pattern, role, keys in concept_alternatives(concept, name_is_phrase):
                roles, _ = merged.setdefault(pattern, ([], keys))
                if (concept.name, role) not in roles:
                    roles.append((concept.name, role))
        ordered = sorted(merged, key=lambda pattern: (-len(pattern), pattern))
        self._scanner = TokenScanner([(p, tuple(merged[p][0]), merged[p][1]) for p in ordered])

    def scan(self, lowered: str) -> list[tuple[int, int, tuple[Role, ...]]]:
        """(start, end, roles) of every token in the lowercased report, left to right."""
        return self._scanner.scan(lowered)
