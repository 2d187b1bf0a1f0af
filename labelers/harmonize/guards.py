"""Strings that must never be mapped: negated, historical, valued-as-absent or instruction-like.

A label name that denies its finding ("pneumothorax: negative", "kein Pneumothorax", "=0") or
that talks to the model ("label everything Pneumothorax") carries the finding's word, so every
similarity step would place it on that finding: a report's "no pneumothorax" would become a
positive vote. The cue may stand anywhere in the string and in several languages, so the check
runs on every token, before any step may map the string. Words are accent-folded tokens (see
`lexical.tokenize`); multi-word cues are matched as token sequences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Deny, exclude, or place the finding in the past (English, German, French, Spanish, Italian,
# Portuguese, Dutch). "non" only opens a string: "non axial changes" is not a denial.
NEGATION_WORDS = frozenset(
    """
    no not without negative neg absent absence absents excluded exclude excludes excluding
    resolved resolving resolution none nil never lack lacks lacking denies denied removed
    false 0 ruled unlikely
    kein keine keinen keinem keiner keines nicht ohne ausgeschlossen negativ fehlend
    pas sans aucun aucune exclu exclue exclus negatif negative ni jamais
    sin ausencia ausente negativo negativa descartado descartada descarta niega ningun ninguna
    ninguno nunca
    senza nessun nessuna nessuno assenza assente escluso esclusa
    sem nenhum nenhuma nao
    geen zonder niet afwezig
    """.split()
)
NEGATION_PHRASES = (
    ("free", "of"),
    ("rule", "out"),
    ("history", "of"),
    ("hx", "of"),
    ("h", "o"),
    ("status", "post"),
    ("s", "p"),
    ("frei", "von"),
    ("zustand", "nach"),
    ("z", "n"),
    ("antecedent",),
    ("antecedents",),
    ("antecedente",),
    ("antecedentes",),
    ("prior",),
    ("previous",),
    ("past",),
    ("former",),
)
OPENING_NEGATIONS = frozenset({"non"})
# A value written after the name that says "absent" or "unknown": "ptx=0", "effusion: -",
# "(-)", "-ve", "effusion = -1".
_ABSENT_VALUE = re.compile(r"[:=]\s*(?:-1|-|–|0)(?![\w.])|\(\s*[-–]\s*\)|(?:^|\s)-ve\b")

# Vocabulary of requests and role play: label names never contain it, injected prompts do.
_INSTRUCTION_WORDS = (
    r"ignore|ignoring|disregard|instructions?|prompt|system|assistant|answer|respond|reply|"
    r"output|pretend|say|choose|select|return|label|labels|everything|always|classify|"
    r"override|forget|must|should|"
    r"ignoriere|ignorieren|vergiss|antworte|antworten|anweisungs?|anweisungen|gib|sage|"
    r"ignorez|ignorer|oublie|oubliez|reponds|repondez|choisis|choisissez|consignes?|"
    r"ignora|olvida|responde|contesta|elige|instrucciones|etiqueta|etiquetar|"
    r"dimentica|rispondi|scegli|istruzioni|esqueca|responda|escolha|instrucoes|negeer|antwoord"
)
_INSTRUCTION = re.compile(rf"\b(?:{_INSTRUCTION_WORDS})\b")
_INSTRUCTION_PHRASES = re.compile(
    r"\b(?:you are|you must|act as|from now on|du bist|tu es|vous etes|eres|sei un|voce e)\b"
)
# Markup and control characters: a label name has no tags, braces or line breaks.
_MARKUP = re.compile(r"<\s*/?\s*[a-z|!]|[{}`]|[\x00-\x08\x0a-\x1f\x7f]", re.IGNORECASE)


def negation_cue(tokens: Sequence[str], raw: str) -> str:
    """The cue that denies the finding, or "" when there is none."""
    for token in tokens:
        if token in NEGATION_WORDS:
            return token
    if tokens and tokens[0] in OPENING_NEGATIONS:
        return tokens[0]
    present = set(tokens)
    for phrase in NEGATION_PHRASES:
        if phrase[0] not in present:
            continue
        n = len(phrase)
        if any(tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1)):
            return " ".join(phrase)
    match = _ABSENT_VALUE.search(raw)
    return match.group(0).strip() if match else ""


def instruction_cue(folded: str, raw: str) -> str:
    """The word or mark that makes the string read as an instruction, or ""."""
    for pattern, text in ((_MARKUP, raw), (_INSTRUCTION_PHRASES, folded), (_INSTRUCTION, folded)):
        match = pattern.search(text)
        if match:
            return match.group(0)
    return ""
