"""An ontology's phrases compiled into one regex for all labels, scanned once per report.

Phrases from the YAML become word-bounded regexes over lowercased text: any run of whitespace or
a hyphen may sit between words, and mention phrases also match their plural. Compiling once per
worker is what makes matching cheap per report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labelmill.labelers.reports.scanner import TokenScanner, bucketed
from labelmill.schemas.ontology import Concept

_WORD_GAP = r"[\s\-]+"
_LEFT, _RIGHT = r"(?<![a-z0-9])", r"(?![a-z0-9])"


def phrase_to_regex(phrase: str, plural: bool = False) -> str:
    """A literal phrase as a regex: case already folded, flexible gaps, optional plural ending."""
    words = phrase.lower().replace("-", " ").split()
    body = _WORD_GAP.join(re.escape(word) for word in words)
    return body + ("(?:s|es)?" if plural else "")


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
    found = [
        (phrase_to_regex(p, plural), role, phrase_keys(p, plural)) for p, role, plural in phrases
    ]
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
