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
    NEGATED,
    PROBABLE,
    PSEUDO,
    TERMINATOR,
    Trigger,
    TriggerMatcher,
)


class SentenceTriggers:
    """The triggers of one sentence, indexed for `decide`."""

    def __init__(self, matcher: TriggerMatcher, lowered: str, start: int, end: int) -> None:
        found = matcher.find(lowered, start, end)
        self._matcher, self._lowered = matcher, lowered
        self._pseudo = [t for t in found if t.kind == PSEUDO]
        self._set([t for t in found if t.kind not in (TERMINATOR, PSEUDO)])
        terminators = [t for t in found if t.kind == TERMINATOR]
        self._term_starts = [t.start for t in terminators]
        self._term_ends = [t.end for t in terminators]
        self._start, self._end = start, end

    def _set(self, triggers: list[Trigger]) -> None:
        self._triggers = triggers
        self._starts = [t.start for t in triggers]

    def decide(self, start: int, end: int, gapped: bool = False) -> Trigger | None:
        """The trigger that decides the mention [start, end), or None (affirmed).

        Triggers inside a mention count only for a `gapped` one (a pattern such as "heart is not
        enlarged"), never inside a plain phrase. A pseudo-trigger that overlaps the mention gives
        its words back ("no change in vision"). A "probable" trigger decides only when nothing
        else reaches the mention, and weak uncertainty ("to suggest") yields to a negation.
        """
        overlapping = [p for p in self._pseudo if p.start < end and p.end > start]
        if not overlapping:
            return self._decide(start, end, gapped)
        saved = self._triggers
        inner = [
            t for p in overlapping for t in self._matcher.inside(self._lowered, p.start, start)
        ]
        self._set(sorted(saved + inner, key=lambda t: t.start))
        try:
            return self._decide(start, end, gapped)
        finally:
            self._set(saved)

    def _decide(self, start: int, end: int, gapped: bool) -> Trigger | None:
        lowered = self._lowered
        # The clause: from the last terminator before the mention to the first one after it.
        before = bisect.bisect_right(self._term_ends, start)
        clause_start = self._term_ends[before - 1] if before else self._start
        after = bisect.bisect_left(self._term_starts, end)
        clause_end = self._term_starts[after] if after < len(self._term_starts) else self._end
        first = bisect.bisect_left(self._starts, clause_start)
        last = bisect.bisect_left(self._starts, clause_end)
        split = bisect.bisect_left(self._starts, start)
        item_by_item = self._negated_item_by_item(first, last, clause_start)
        max_window = self._matcher.max_window

        candidates: list[tuple[bool, int, Trigger]] = []
        for i in range(split - 1, first - 1, -1):  # triggers before the mention, nearest first
            trigger = self._triggers[i]
            between = lowered[trigger.end : start]
            words = len(between.split())
            if words > max_window:
                break
            if trigger.end > start or trigger.direction == BACKWARD:
                continue  # overlaps a plain mention, or points away from it
            if item_by_item and trigger.kind == NEGATED and "," in between:
                continue  # "no A, no B, C": C is not in the list
            candidates.append((trigger.kind == PROBABLE, words, trigger))
        for i in range(split, last):  # triggers inside the mention, then after it
            trigger = self._triggers[i]
            if trigger.start < end:
                if gapped and trigger.end <= end:  # "heart is not enlarged"
                    candidates.append((trigger.kind == PROBABLE, 0, trigger))
                continue
            words = len(lowered[end : trigger.start].split())
            if words > max_window:
                break
            if trigger.direction != FORWARD:
                candidates.append((trigger.kind == PROBABLE, words, trigger))
        reaching = [c for c in candidates if c[1] <= c[2].window]
        if any(c[2].kind == NEGATED for c in reaching):
            reaching = [c for c in reaching if not c[2].weak]
        return min(reaching, key=lambda c: c[:2])[2] if reaching else None

    def _negated_item_by_item(self, first: int, last: int, clause_start: int) -> bool:
        """Whether two or more comma-separated parts of the clause open with a negation.

        "No consolidation, no definite effusion, left hilar nodule" negates item by item, so a
        part without its own negation is affirmed; "no effusion, pneumothorax or consolidation"
        is one negated list.
        """
        openers = 0
        for trigger in self._triggers[first:last]:
            if trigger.kind != NEGATED or trigger.direction == BACKWARD:
                continue
            head = self._lowered[clause_start : trigger.start].rstrip()
            if not head or head.endswith(","):
                openers += 1
                if openers == 2:
                    return True
        return False
