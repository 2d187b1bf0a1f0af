"""Many alternatives compiled into one fast regex scan, and which alternative made each match.

Python's `re` tries the branches of an alternation one by one at every position and slows down
by an order of magnitude with a named group per branch. So: no groups (a match is resolved
afterwards, by its text or by re-trying the patterns), branches bucketed by first character,
and literal words in a trie, which `re` walks one character at a time.
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from collections.abc import Sequence
from typing import Generic, TypeVar

_LEFT, _RIGHT = r"(?<![a-z0-9])", r"(?![a-z0-9])"
MAX_EXPANSION = 4096  # texts a finite pattern may expand to before it stays a regex


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


def expand(pattern: str, limit: int = MAX_EXPANSION) -> tuple[str, ...] | None:
    """Every text a finite pattern matches ("(?:is|are) not" -> "is not", "are not"), or None
    for patterns with open repeats, classes such as \\w, or lookarounds."""
    try:
        texts = _expand(sre_parse.parse(pattern), limit)
    except re.error:
        return None
    return None if texts is None else tuple(dict.fromkeys(texts))


def _expand(items: sre_parse.SubPattern | list, limit: int) -> list[str] | None:
    texts = [""]
    for op, arg in items:
        if op is sre.LITERAL:
            options = [chr(arg)]
        elif op is sre.IN and all(kind is sre.LITERAL for kind, _ in arg):
            options = [chr(code) for _, code in arg]
        elif op is sre.BRANCH:
            options = []
            for branch in arg[1]:
                found = _expand(branch, limit)
                if found is None:
                    return None
                options += found
        elif op is sre.SUBPATTERN and arg[0] is None and not arg[1] and not arg[2]:
            options = _expand(arg[3], limit)
        elif op is sre.MAX_REPEAT and arg[1] <= 3:
            inner = _expand(arg[2], limit)
            if inner is None:
                return None
            options, run = [], [""]
            for count in range(arg[1] + 1):
                if count >= arg[0]:
                    options += run
                run = [a + b for a in run for b in inner]
        else:
            return None
        if options is None:
            return None
        texts = [a + b for a in texts for b in options]
        if len(texts) > limit:
            return None
    return texts


def trie(words: Sequence[str]) -> str:
    """One regex for a set of literal texts, as a trie: the longest one wins."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        kids = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not kids:
            return ""
        body = kids[0] if len(kids) == 1 else "(?:" + "|".join(kids) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


Payload = TypeVar("Payload")
_GAP = re.compile(r"[\s\-]+")
_SINGLE_SPACED = re.compile(r"[^\s\-]+(?: [^\s\-]+)*")


class TokenScanner(Generic[Payload]):
    """Many alternatives as one regex without groups, and which alternative made each match.

    Python's `re` slows down by an order of magnitude with a named group per alternative, so
    the scan has none; a match is resolved afterwards, by its text for literal phrases (a dict
    lookup: a literal matches the same text anywhere) and by re-trying the patterns in order
    otherwise, which is what the alternation itself does. Alternatives come in priority order;
    literals that match the same text pool their payloads when `pool` is set. With `literal_trie`,
    finite patterns become literal texts in a trie, tried after the other patterns: those then
    win where both match, and the longest text wins among literals.
    """

    def __init__(
        self,
        alternatives: Sequence[tuple[str, tuple[Payload, ...], tuple[str, ...]]],
        left: str = _LEFT,
        right: str = _RIGHT,
        pool: bool = True,
        literal_trie: bool = False,
    ) -> None:
        self._literal: dict[str, tuple[Payload, ...]] = {}
        self._patterns: list[tuple[re.Pattern[str], tuple[Payload, ...]]] = []
        literals: list[str] = []  # texts for the trie
        others: list[str] = []  # patterns for the bucketed alternation
        for pattern, payload, keys in alternatives:
            if literal_trie:
                keys = keys or expand(pattern) or ()
                if keys:
                    literals.extend(keys)
            if not (literal_trie and keys):
                others.append(pattern)
            for key in keys:
                known = self._literal.get(key)
                if known is None:
                    self._literal[key] = payload
                elif pool:
                    self._literal[key] = known + tuple(p for p in payload if p not in known)
            if not keys:
                self._patterns.append((re.compile(f"(?:{pattern}){right}"), payload))
        branches = ([bucketed(others)] if others else []) + ([trie(literals)] if literals else [])
        self._regex = re.compile(left + "(?:" + ("|".join(branches) or "(?!)") + ")" + right)

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
        found = text[start:end]
        literal = self._literal.get(found)
        if literal is None and not _SINGLE_SPACED.fullmatch(found):
            literal = self._literal.get(_GAP.sub(" ", found))
        if literal is not None:
            return literal
        for pattern, payload in self._patterns:
            match = pattern.match(text, start)
            if match is not None and match.end() == end:
                return payload
        return ()
