"""Which trigger, if any, decides a mention: ConText scope resolution within one sentence.

A trigger reaches a mention when it points towards it (forward, backward or both), no terminator
stands between them, and the words between them fit its window; the nearest such trigger wins.
Lookups use bisection and stop at the widest window, so the cost per mention does not grow with
the length of the sentence.
"""

from __future__ import annotations

import bisect

from labelmill.labelers.reports.rules import (
    BACKWARD,
    FORWARD,
    PROBABLE,
    RULES,
    TERMINATOR,
    Trigger,
)

MAX_WINDOW = max(rule.window for rule in RULES)


class SentenceTriggers:
    """The triggers of one sentence, indexed for `decide`."""

    def __init__(self, triggers: list[Trigger], start: int, end: int) -> None:
        self._triggers = [t for t in triggers if t.kind != TERMINATOR]
        self._starts = [t.start for t in self._triggers]
        terminators = [t for t in triggers if t.kind == TERMINATOR]
        self._term_starts = [t.start for t in terminators]
        self._term_ends = [t.end for t in terminators]
        self._start, self._end = start, end

    def decide(self, lowered: str, start: int, end: int) -> Trigger | None:
        """The trigger that decides the mention lowered[start:end], or None (affirmed).

        A "probable" trigger decides only when nothing else reaches the mention, so that "may be
        compatible with" stays uncertain and "no findings consistent with" stays negated.
        """
        # The clause: from the last terminator before the mention to the first one after it.
        before = bisect.bisect_right(self._term_ends, start)
        clause_start = self._term_ends[before - 1] if before else self._start
        after = bisect.bisect_left(self._term_starts, end)
        clause_end = self._term_starts[after] if after < len(self._term_starts) else self._end
        first = bisect.bisect_left(self._starts, clause_start)
        last = bisect.bisect_left(self._starts, clause_end)
        split = bisect.bisect_left(self._starts, start)

        candidates: list[tuple[bool, int, Trigger]] = []
        for i in range(split - 1, first - 1, -1):  # triggers before the mention, nearest first
            trigger = self._triggers[i]
            words = len(lowered[trigger.end : start].split())
            if words > MAX_WINDOW:
                break
            if trigger.end <= start and trigger.direction != BACKWARD:
                candidates.append((trigger.kind == PROBABLE, words, trigger))
        for i in range(split, last):  # triggers inside the mention, then after it
            trigger = self._triggers[i]
            if trigger.end <= end:  # inside a gapped mention: "heart is not enlarged"
                candidates.append((trigger.kind == PROBABLE, 0, trigger))
                continue
            words = len(lowered[end : trigger.start].split())
            if words > MAX_WINDOW:
                break
            if trigger.direction != FORWARD:
                candidates.append((trigger.kind == PROBABLE, words, trigger))
        reaching = [c for c in candidates if c[1] <= c[2].window]
        return min(reaching, key=lambda c: c[:2])[2] if reaching else None
