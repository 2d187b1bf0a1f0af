"""Where a finding is: the side and zone words nearest to its mention, kept as evidence.

Each language file lists, per axis (side: left, right, bilateral; zone: upper, middle, lower),
the words that place a finding. A mention that is present or uncertain gets, per axis, the value
of the location word nearest to it within its sentence ("small left pleural effusion" and
PadChest's "derram pleural derech" alike). Locations are evidence only: no label depends on them.
"""

from __future__ import annotations

import re

from labelmill.labelers.reports.languages import Language


class LocationFinder:
    """One compiled scan per axis of a language's location words; `place` per mention."""

    def __init__(self, language: Language) -> None:
        by_axis: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for rule in language.locations:
            by_axis.setdefault(rule.axis, []).append((rule.value, rule.patterns))
        self._scans = [
            (
                axis,
                [value for value, _ in rules],
                re.compile(
                    r"(?<![\w])(?:"
                    + "|".join("(" + "|".join(f"(?:{p})" for p in ps) + ")" for _, ps in rules)
                    + r")(?![\w])"
                ),
            )
            for axis, rules in by_axis.items()
        ]
        breaks = "|".join(  # words as whole words; punctuation (",") as it is
            rf"(?<![\w])(?:{p})(?![\w])" if re.match(r"\w", p) else f"(?:{p})"
            for p in language.location_breaks
        )
        self._break = re.compile(breaks) if breaks else None

    def matches(self, lowered: str, start: int, end: int) -> list[tuple[int, int, str, str]]:
        """(start, end, axis, value) of every location word in `lowered[start:end]`."""
        return [
            (m.start(), m.end(), axis, values[m.lastindex - 1])
            for axis, values, scan in self._scans
            for m in scan.finditer(lowered, start, end)
        ]

    def place(
        self, found: list[tuple[int, int, str, str]], lowered: str, start: int, end: int
    ) -> dict[str, str]:
        """Per axis, the value of the location word nearest to the mention [start, end) that
        no break word ("and", ",") separates from it."""
        best: dict[str, tuple[int, str]] = {}
        for s, e, axis, value in found:
            if s < end and e > start:
                distance, between = 0, ""
            elif e <= start:
                distance, between = start - e, lowered[e:start]
            else:
                distance, between = s - end, lowered[end:s]
            if self._break is not None and self._break.search(between):
                continue
            if axis not in best or distance < best[axis][0]:
                best[axis] = (distance, value)
        return {axis: value for axis, (_, value) in sorted(best.items())}
