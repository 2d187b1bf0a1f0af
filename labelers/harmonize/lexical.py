"""Step 1 of the cascade: normalised exact matching of raw label strings against an ontology.

Raw names differ from the ontology's names mostly in form, not meaning: case, punctuation, word
order, plurals, laterality and size modifiers, abbreviations and typos. Normalising both sides
the same way turns most of them into exact matches, which are cheap, explainable and never drift.
Strings that are negated, look like instructions or fall under a concept's exclusions are flagged
here so that no later step (embeddings, LLM) can map them either.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass

from labelmill.schemas.ontology import Concept, Ontology

# Words that qualify a finding without changing which finding it is.
MODIFIERS = frozenset(
    """
    left right l r lt rt bilateral bilat bibasilar bibasal basilar basal apical apex upper middle
    mid lower lobe lobar lung lungs pulmonary base bases rul rml rll lul lll lingula lingular
    zone zones
    small large moderate mod mild severe minimal tiny trace massive extensive subtle diffuse
    focal patchy multifocal multiple several few new old acute chronic stable increasing
    decreasing improving worsening persistent residual known possible probable likely suspected
    questionable query early
    """.split()
)
STOPWORDS = frozenset("a an the of in on at to and with".split())
# Phrases that deny the finding: a raw label "no pneumothorax" must not become Pneumothorax.
NEGATION_CUES = (
    "no",
    "not",
    "non",
    "without",
    "negative",
    "absent",
    "absence",
    "free of",
    "resolved",
    "resolution",
    "ruled out",
    "excluded",
    "neg",
)
# Instruction-like vocabulary: label names never contain it, injected prompts usually do.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|instructions?|prompt|system|assistant|answer|respond|reply|output|"
    r"pretend|you are|you must|say|choose|select|return)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})  # NFKD does not split these
_SHORTENED = re.compile(r"\b([a-z]{3,})\.")
_FUZZY_MIN_LEN = 5
_MAX_READINGS = 256


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with accents folded; punctuation, '_' and '/' separate words."""
    spelled = text.lower().translate(_LIGATURES)
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    return _TOKEN.findall(folded)


def stem(token: str) -> str:
    """Singular form by a few suffix rules; applied to both sides, so consistency matters most."""
    if len(token) <= 3 or token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("aces"):  # pneumothoraces
        return token[:-4] + "ax"
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith(("ses", "xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s"):
        return token[:-1]
    return token


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when `a` becomes `b` by one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def _contains(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class Analysis:
    """What step 1 learned about one raw string.

    `clean` is the string lower-cased with abbreviations spelled out, the text the embedding
    step reads; it is empty when nothing but modifiers remains.
    """

    label: str | None
    score: float
    clean: str
    blocked: frozenset[str]
    negated: bool
    instruction: bool


class LexicalMatcher:
    """Index of an ontology's names, synonyms and abbreviations under one normalisation."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        self._abbrev: dict[str, tuple[str, ...] | None] = {}
        self._index: dict[tuple[str, ...], set[str]] = {}
        self._exclusions: list[tuple[tuple[str, ...], str]] = []
        for concept in ontology.concepts:
            for phrase in self._phrases(concept):
                self._index.setdefault(self._key(phrase), set()).add(concept.name)
            for abbrev in concept.abbreviations:
                self._index.setdefault(self._key(abbrev), set()).add(concept.name)
                words = tokenize(abbrev)
                if len(words) == 1:
                    # An abbreviation two concepts share is left as it is (None).
                    seen = words[0] in self._abbrev
                    self._abbrev[words[0]] = None if seen else tuple(tokenize(concept.name))
            for phrase in concept.exclusions:
                self._exclusions.append((_words(tokenize(phrase)), concept.name))
        self._vocab = {t for key in self._index for t in key}

    @staticmethod
    def _phrases(concept: Concept) -> list[str]:
        return [concept.name, *concept.synonyms]

    @staticmethod
    def _core(tokens: list[str]) -> tuple[str, ...]:
        """Stemmed tokens without modifiers and stopwords, in their original order."""
        return _words([t for t in tokens if t not in MODIFIERS])

    def _key(self, text: str) -> tuple[str, ...]:
        """Order-free key: 'effusion, pleural' and 'pleural effusion' meet."""
        return tuple(sorted(set(self._core(tokenize(text)))))

    def _expand(self, tokens: list[str]) -> list[str]:
        """Spell out the ontology's single-word abbreviations ('eff' -> 'effusion')."""
        out: list[str] = []
        for token in tokens:
            out.extend(self._abbrev.get(token) or (token,))
        return out

    def _spellings(self, token: str, shortened: bool) -> list[str]:
        """Vocabulary words `token` may stand for: itself, a one-edit typo, or a cut-off word."""
        if token in self._vocab:
            return [token]
        near = []
        if len(token) >= _FUZZY_MIN_LEN:
            near = [v for v in self._vocab if _edit_distance_at_most_one(token, v)]
        if shortened and len(token) >= 3:
            near += [v for v in self._vocab if v.startswith(token)]
        return sorted(set(near)) or [token]

    def _corrected_label(
        self, raw: str, core: tuple[str, ...], blocked: frozenset[str]
    ) -> str | None:
        """The one concept that every reading of the typos and cut-off words ('eff.') agrees on."""
        shortened = set(_SHORTENED.findall(raw.lower()))
        readings = [self._spellings(t, t in shortened) for t in core]
        if math.prod(len(r) for r in readings) > _MAX_READINGS:
            return None
        found = {self._lookup(combo, blocked) for combo in itertools.product(*readings)}
        found.discard(None)
        return found.pop() if len(found) == 1 else None

    def _lookup(self, core: tuple[str, ...], blocked: frozenset[str]) -> str | None:
        names = self._index.get(tuple(sorted(set(core))), set()) - blocked
        return next(iter(names)) if len(names) == 1 else None

    def analyse(self, raw: str) -> Analysis:
        """Match `raw` exactly after normalisation, then after one-edit typo correction."""
        tokens = tokenize(raw)
        expanded = self._expand(tokens)
        core = self._core(expanded)
        words = _words(expanded)
        blocked = frozenset(name for phrase, name in self._exclusions if _contains(words, phrase))
        clean = " ".join(expanded) if core else ""
        negated = _is_negated(tokens)
        instruction = bool(_INSTRUCTION.search(raw))
        label, score = None, 0.0
        # An exact name or synonym wins even when it starts with a cue ("No Finding").
        exact = self._lookup(self._core(tokens), blocked) or self._lookup(core, blocked)
        if exact is not None and not instruction:
            label, score = exact, 1.0
        elif core and not negated and not instruction:
            corrected = self._corrected_label(raw, core, blocked)
            if corrected is not None:
                label, score = corrected, 0.9
        return Analysis(label, score, clean, blocked, negated, instruction)


def _words(tokens: list[str]) -> tuple[str, ...]:
    """Stemmed tokens without stopwords but with modifiers, for exclusions: 'lung hernia' must
    not shrink to 'hernia' and exclude every hernia."""
    return tuple(stem(t) for t in tokens if t not in STOPWORDS)


def _is_negated(tokens: list[str]) -> bool:
    text = " ".join(tokens)
    return any(text == cue or text.startswith(cue + " ") for cue in NEGATION_CUES) or (
        " ".join(tokens[-2:]) in {"ruled out", "not seen", "not present"}
    )
