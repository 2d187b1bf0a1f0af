"""Checks that a string and the ontology phrase it lands near name the same kind of thing.

Sentence embeddings score topic, not identity: "hilar enlargement" sits near "cardiac
enlargement", "calcified fibroadenoma" near "fibrosis", "surgery heart" near "enlarged heart".
Three cheap checks catch what the score cannot:
- head noun: the string's head (the noun that the rest qualifies) must appear in the phrase, by
  word root ("enlarged" ~ "enlargement", "atelectatic" ~ "atelectasis"); a generic head ("changes",
  "signs") needs one of its qualifiers to appear instead;
- anatomy: when both name a body site other than the lung itself, they must share one (hilum
  is not heart; "fluid around the lung" may still be pleural fluid);
- kind: a device ("tube", "prosthesis") only matches a phrase that names a device, a procedure
  ("sternotomy", "surgery") one that names a procedure, a finding one that names a finding.
The site lexicon also lets an ontology declare which sites it covers (`harmonize.anatomy`), so
"rib fracture" is refused by a lung-and-heart ontology before any model runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from labelmill.labelers.harmonize.lexical import MODIFIERS, STOPWORDS

# Body site -> word prefixes that name it (accent-folded, lower case).
SITES: dict[str, tuple[str, ...]] = {
    "heart": ("heart", "cardi", "cardio"),
    "pericardium": ("pericard",),
    "hilum": ("hilar", "hilum", "hila", "hili", "perihilar"),
    "aorta": ("aort",),
    "vessel": ("vascul", "vessel", "arter", "vein", "venous", "vena", "azygo"),
    "mediastinum": ("mediastin",),
    "pleura": ("pleur", "costophrenic", "fissur"),
    "lung": ("lung", "pulmon", "parenchym", "alveol", "lobe", "lobar", "interstiti"),
    "airway": ("bronch", "trache", "airway"),
    "diaphragm": ("diaphragm", "hemidiaphragm", "phren"),
    "stomach": ("hiat", "stomach", "gastr", "esophag", "oesophag"),
    "bone": (
        "bone",
        "osse",
        "osteo",
        "rib",
        "ribs",
        "vertebr",
        "spin",
        "clavic",
        "humer",
        "stern",
        "scapul",
        "skelet",
        "costochondral",
        "kyph",
        "scolio",
        "cervical",
    ),
    "breast": ("breast", "mamm", "nipple", "fibroadenom", "gynecomast"),
    "soft tissue": ("soft", "subcutaneous", "skin", "muscle"),
    "abdomen": ("abdom", "perito", "bowel", "liver", "kidney", "nephr", "colon"),
    "thyroid": ("thyroid", "goiter", "goitre"),
    "joint": ("articul", "joint", "shoulder", "subacromial"),
}
_SITE_EXACT = {"rib", "ribs", "hila", "hili"}  # short words matched whole, not as prefixes
# The anatomy a multi-word name points at, which its words alone would get wrong.
_SITE_PHRASES = {
    ("pulmonary", "artery"): "vessel",
    ("pulmonary", "vein"): "vessel",
    ("soft", "tissue"): "soft tissue",
    ("chest", "wall"): "soft tissue",
}

_DEVICE = re.compile(
    r"^(?:tubes?|catheters?|pacemakers?|pacers?|devices?|prosthes[ie]s|prosthetic|artificial|"
    r"stents?|drains?|materials?|wires?|clips?|electrodes?|implants?|ports?|reservoirs?|"
    r"cannulas?|leads?|lines?|hardware|metal|cement|sutures?|\w+ostomy)$|^endoprosthes|"
    r"^osteosynthes"
)
_PROCEDURE = re.compile(
    r"^(?:surgery|surgical|postoperative|postsurgical|resection|radiotherapy|radiation|"
    r"operation|\w+(?:ectomy|otomy|plasty))$"
)
_GENERIC_HEADS = frozenset(
    "change changes sign signs finding findings disease abnormality process appearance "
    "sequela sequelae pattern marking markings lesion".split()
)
_PREPOSITIONS = frozenset("of in on at around within involving from along near".split())
_SUFFIXES = (
    "ements",
    "ement",
    "ations",
    "ation",
    "ions",
    "ion",
    "ings",
    "ing",
    "atic",
    "asis",
    "otic",
    "osis",
    "ous",
    "ies",
    "ed",
    "es",
    "ic",
    "al",
    "ia",
    "y",
    "s",
    "e",
)


def root(word: str) -> str:
    """A crude word root, so that derived forms meet: enlarged/enlargement, fibrotic/fibrosis."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def sites(tokens: Sequence[str]) -> set[str]:
    """The body sites that `tokens` name."""
    found: set[str] = set()
    skip: set[int] = set()
    for i in range(len(tokens) - 1):
        site = _SITE_PHRASES.get((tokens[i], tokens[i + 1]))
        if site:
            found.add(site)
            skip.update((i, i + 1))
    for i, token in enumerate(tokens):
        if i in skip:
            continue
        for site, prefixes in SITES.items():
            if token in _SITE_EXACT and token in prefixes:
                found.add(site)
            elif token not in _SITE_EXACT and len(token) > 3 and token.startswith(prefixes):
                found.add(site)
    return found


def kind(tokens: Sequence[str]) -> str:
    """What the words name: "device" (or material), "procedure", or "finding"."""
    if "foreign body" in " ".join(tokens) or any(_DEVICE.search(t) for t in tokens):
        return "device"
    return "procedure" if any(_PROCEDURE.search(t) for t in tokens) else "finding"


def is_device(tokens: Sequence[str]) -> bool:
    """Whether the words name a device, material or procedure rather than a finding."""
    return kind(tokens) != "finding"


def _content(tokens: Sequence[str]) -> list[str]:
    return [t for t in tokens if t not in STOPWORDS]


def head(tokens: Sequence[str]) -> tuple[str, list[str]]:
    """The head noun and its qualifiers: the last word that is not a modifier, before any
    preposition ("fluid in the pleural space" -> fluid); PadChest's inverted "atelectasis basal"
    works because "basal" is a modifier."""
    words = list(tokens)
    for i, t in enumerate(words):
        if t in _PREPOSITIONS and i > 0:
            words = words[:i]
            break
    content = [t for t in _content(words) if t not in MODIFIERS] or _content(words)
    if not content:
        return "", []
    return content[-1], [t for t in _content(tokens) if t != content[-1] and t not in MODIFIERS]


class PhraseShape:
    """What the checks need to know about one side: head, qualifiers, roots, sites, kind."""

    def __init__(self, tokens: Sequence[str], extra_sites: frozenset[str] = frozenset()) -> None:
        self.head, self.qualifiers = head(tokens)
        self.roots = {root(t) for t in _content(tokens)}
        self.sites = sites(tokens) | extra_sites
        self.kind = kind(tokens)

    @property
    def keys(self) -> set[str]:
        """The roots that must meet a phrase's roots for the phrase to agree."""
        if self.head in _GENERIC_HEADS:
            return {root(q) for q in self.qualifiers}
        return {root(self.head)} if self.head else set()


def disagreement(string: PhraseShape, phrase: PhraseShape) -> str:
    """Why `string` cannot mean `phrase` ("" when the checks pass). The string's own "lung"
    never conflicts (pleural fluid is around the lung); a phrase's concept-level site does."""
    if string.kind != phrase.kind:
        return f"names a {string.kind}, the phrase a {phrase.kind}"
    own = string.sites - {"lung"}
    if own and phrase.sites and not own & phrase.sites:
        return f"anatomy {'/'.join(sorted(own))} vs {'/'.join(sorted(phrase.sites))}"
    if string.kind != "finding":
        return ""  # a device matches a device phrase whatever its head noun
    if not string.head:
        return "no head noun"
    if not string.keys & phrase.roots:
        if string.head in _GENERIC_HEADS:
            return f"generic head '{string.head}' with no qualifier in common"
        return f"head noun '{string.head}' not in the phrase"
    return ""


class PhraseIndex:
    """The ontology's phrases by word root, so that the phrases a string can agree with are
    found without scoring them all, and a string that agrees with none skips the model."""

    def __init__(self, shapes: Sequence[PhraseShape]) -> None:
        self.shapes = list(shapes)
        self._by_root: dict[str, set[int]] = {}
        for j, shape in enumerate(self.shapes):
            for r in shape.roots:
                self._by_root.setdefault(r, set()).add(j)
        self._kinds: dict[str, set[int]] = {}
        for j, shape in enumerate(self.shapes):
            self._kinds.setdefault(shape.kind, set()).add(j)

    def agreeing(self, string: PhraseShape) -> list[int]:
        """Indices of the phrases that pass every check for `string`."""
        if string.kind != "finding":
            pool = self._kinds.get(string.kind, set())
        else:
            pool = set().union(*(self._by_root.get(k, set()) for k in string.keys))
        return sorted(j for j in pool if not disagreement(string, self.shapes[j]))
