"""Step 1 of the cascade: normalised exact matching of raw label strings against an ontology.

Raw names differ from the ontology's names mostly in form, not meaning: case, punctuation, word
order, plurals, laterality and size modifiers, abbreviations and typos. Normalising both sides
the same way turns most of them into exact matches, which are cheap, explainable and never drift.
Strings that are negated, look like instructions or fall under a concept's exclusions or `not:`
entries are flagged here so that no later step (embeddings, LLM) can map them either. A phrase
that two concepts list ("hydropneumothorax") maps to both, and the ontology's pattern families
("reticular interstitial pattern") are matched here too: both are data, not code.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from labelmill.labelers.harmonize.guards import instruction_cue, negation_cue
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
_TOKEN = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})  # NFKD does not split these
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")
_SHORTENED = re.compile(r"\b([a-z]{3,})\.")
_FUZZY_MIN_LEN = 5
_MAX_READINGS = 256


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with accents folded; punctuation, '_' and '/' separate words."""
    return list(_tokens(text))


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    spelled = text.lower().translate(_LIGATURES)
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    return tuple(_TOKEN.findall(folded))


@lru_cache(maxsize=65536)
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


def _deletions(word: str) -> set[str]:
    """The word and every form of it with one letter removed."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _contains(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class Analysis:
    """What step 1 learned about one raw string.

    `clean` is the string lower-cased with abbreviations spelled out, the text the embedding
    step reads; it is empty when nothing but modifiers remains. `blocked`: concepts that the
    string's words exclude or list under `not:`, which no step may give it; `excluded`: those
    from `exclusions` alone, which rule the string out entirely. `negation` and `instruction`
    hold the cue that rules the string out ("" when none); `method` says which rule placed it.
    """

    labels: tuple[str, ...]
    score: float
    clean: str
    blocked: frozenset[str]
    excluded: frozenset[str] = frozenset()
    negation: str = ""
    instruction: str = ""
    method: str = "lexical"

    @property
    def label(self) -> str | None:
        """The labels as one `A|B` string, None when step 1 did not place the string."""
        return "|".join(self.labels) or None


class LexicalMatcher:
    """Index of an ontology's names, synonyms and abbreviations under one normalisation."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        self._abbrev: dict[str, tuple[str, ...] | None] = {}
        self._index: dict[tuple[str, ...], set[str]] = {}
        self._plain: dict[tuple[str, ...], set[str]] = {}
        self._full: dict[tuple[str, ...], set[str]] = {}
        self._exclusions: list[tuple[tuple[str, ...], str, bool]] = []
        phrases = [(c.name, p) for c in ontology.concepts for p in self._phrases(c)]
        # Modifiers that some phrase needs ("lobar atelectasis" beside "atelectasis") stay in
        # the first, finer lookup; the others ("left", "small") never decide between concepts.
        self._significant = {t for _, p in phrases for t in tokenize(p)} & MODIFIERS
        for name, phrase in phrases:
            core = self._key(phrase)
            self._index.setdefault(core, set()).add(name)
            full = self._full_key(tokenize(phrase))
            self._full.setdefault(full, set()).add(name)
            if full == core:
                self._plain.setdefault(core, set()).add(name)
        owners: dict[tuple[str, ...], set[str]] = {}
        for concept in ontology.concepts:
            for abbrev in concept.abbreviations:
                owners.setdefault(self._key(abbrev), set()).add(concept.name)
        for key, names in owners.items():
            if len(names) == 1:  # a shared abbreviation means either concept, not both
                self._index.setdefault(key, set()).update(names)
                self._plain.setdefault(key, set()).update(names)
        for concept in ontology.concepts:
            for abbrev in concept.abbreviations:
                words = tokenize(abbrev)
                if len(words) == 1:
                    # An abbreviation two concepts share is left as it is (None).
                    seen = words[0] in self._abbrev
                    self._abbrev[words[0]] = None if seen else tuple(tokenize(concept.name))
            for phrase in concept.exclusions:
                self._exclusions.append((_words(tokenize(phrase)), concept.name, True))
            for phrase in concept.negatives:
                self._exclusions.append((_words(tokenize(phrase)), concept.name, False))
        self._vocab = {t for key in self._index for t in key}
        self._labels = ontology.labels
        self._first_words = {phrase[0] for phrase, _, _ in self._exclusions if phrase}
        # Symmetric-delete index: a one-edit neighbour shares a one-deletion form with the word.
        self._deletes: dict[str, set[str]] = {}
        for word in self._vocab:
            if len(word) >= _FUZZY_MIN_LEN - 1:
                for form in _deletions(word):
                    self._deletes.setdefault(form, set()).add(word)
        self._spelled: dict[tuple[str, bool], list[str]] = {}
        self._families = [
            (
                {stem(t) for head in f.heads for t in tokenize(head)},
                sorted((_words(tokenize(m)) for m in f.members), key=len, reverse=True),
                tuple(f.labels),
            )
            for f in ontology.families
        ]

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

    def _full_key(self, tokens: list[str]) -> tuple[str, ...]:
        """Order-free key that keeps the modifiers some phrase of the ontology uses."""
        kept = [t for t in tokens if t not in MODIFIERS or t in self._significant]
        return tuple(sorted(set(_words(kept))))

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
        key = (token, shortened)
        if key not in self._spelled:
            near: set[str] = set()
            if len(token) >= _FUZZY_MIN_LEN:
                pool = set().union(*(self._deletes.get(f, set()) for f in _deletions(token)))
                near = {v for v in pool if _edit_distance_at_most_one(token, v)}
            if shortened and len(token) >= 3:
                near |= {v for v in self._vocab if v.startswith(token)}
            self._spelled[key] = sorted(near) or [token]
        return self._spelled[key]

    def _corrected_labels(
        self, raw: str, core: tuple[str, ...], blocked: frozenset[str]
    ) -> tuple[str, ...]:
        """The labels that every reading of the typos and cut-off words ('eff.') agrees on."""
        shortened = set(_SHORTENED.findall(raw.lower()))
        readings = [self._spellings(t, t in shortened) for t in core]
        if math.prod(len(r) for r in readings) > _MAX_READINGS:
            return ()
        found = {self._lookup(combo, blocked) for combo in itertools.product(*readings)}
        found.discard(())
        return found.pop() if len(found) == 1 else ()

    def _lookup(self, core: tuple[str, ...], blocked: frozenset[str]) -> tuple[str, ...]:
        """Every concept that lists exactly these words (several for a shared phrase); a phrase
        without modifiers wins over one that only shrank to them ('atelectasis basal')."""
        key = tuple(sorted(set(core)))
        names = self._index.get(key, set()) - blocked
        names = (names & self._plain.get(key, set())) or names
        return tuple(n for n in self._labels if n in names)

    def _lookup_full(self, tokens: list[str], blocked: frozenset[str]) -> tuple[str, ...]:
        names = self._full.get(self._full_key(tokens), set()) - blocked
        return tuple(n for n in self._labels if n in names)

    def _family(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """The labels of the family whose head and member words make up all of `words`."""
        for heads, members, labels in self._families:
            rest, found = list(words), False
            for member in members:
                n = len(member)
                for i in range(len(rest) - n, -1, -1):
                    if tuple(rest[i : i + n]) == member:
                        del rest[i : i + n]
                        found = True
            if found and rest and all(t in heads for t in rest):
                return labels
        return ()

    def analyse(self, raw: str) -> Analysis:
        """Match `raw` exactly after normalisation, then its family, then after typo correction."""
        tokens = tokenize(raw)
        expanded = self._expand(tokens)
        core = self._core(expanded)
        words = _words(expanded)
        hits = []
        if self._first_words.intersection(words):
            hits = [(n, hard) for phrase, n, hard in self._exclusions if _contains(words, phrase)]
        blocked = frozenset(name for name, _ in hits)
        excluded = frozenset(name for name, hard in hits if hard)
        clean = " ".join(expanded) if core else ""
        negation = negation_cue(tokens, raw)
        instruction = instruction_cue(" ".join(tokens), raw)

        def result(labels: tuple[str, ...] = (), score: float = 1.0, **kw: str) -> Analysis:
            return Analysis(labels, score if labels else 0.0, clean, blocked, excluded, **kw)

        if instruction:
            return result(negation=negation, instruction=instruction)
        # An exact name or synonym wins even when its own words hold the cue ("No Finding"); a
        # cue outside the words ("effusion (-)") never lets it through.
        if not negation or set(negation.split()) <= set(tokens):
            exact = self._lookup_full(tokens, blocked) or self._lookup(self._core(tokens), blocked)
            joined = _HYPHEN.sub("", raw.lower())  # "hydro-pneumothorax" is one word too
            if not exact and joined != raw.lower():
                exact = self._lookup_full(tokenize(joined), blocked)
            if exact:
                return result(exact)
        if negation or not core:
            return result(negation=negation)
        exact = self._lookup_full(expanded, blocked) or self._lookup(core, blocked)
        if exact:
            return result(exact)
        family = self._family(core)
        if family and not blocked & set(family):
            return result(family, method="family")
        return result(self._corrected_labels(raw, core, blocked), 0.9)


def _words(tokens: list[str]) -> tuple[str, ...]:
    """Stemmed tokens without stopwords but with modifiers, for exclusions: 'lung hernia' must
    not shrink to 'hernia' and exclude every hernia."""
    return tuple(stem(t) for t in tokens if t not in STOPWORDS)
