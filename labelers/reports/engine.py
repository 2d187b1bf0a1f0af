"""The report-mining engine: mentions, their context, and one value per label with evidence.

Each mention of a label is classified by the nearest trigger whose scope reaches it within its
sentence (ConText: direction, window, terminators, pseudo-triggers). Normal statements ("heart
size is normal") deny their label outright. Values combine per label as present > uncertain >
absent, the CheXpert convention; labels never mentioned stay null.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labelmill.labelers.reports.context import SentenceTriggers
from labelmill.labelers.reports.rules import (
    HISTORICAL,
    NEGATED,
    PROBABLE,
    RESOLVED,
    UNCERTAIN,
    TriggerMatcher,
)
from labelmill.labelers.reports.sections import (
    SECTION_HEADERS,
    UNKNOWN_SECTION,
    Sentence,
    split_sentences,
)
from labelmill.labelers.reports.vocabulary import LabelPatterns, compile_ontology
from labelmill.schemas.ontology import Ontology
from labelmill.schemas.records import NEGATIVE, POSITIVE
from labelmill.schemas.records import UNCERTAIN as UNCERTAIN_VALUE

ENGINE_VERSION = "1.0.0"
Span = tuple[int, int]
DEFAULT_IGNORED_SECTIONS = ("indication", "history", "comparison", "technique")
# Trigger kind -> label value; historical mentions are not current findings and are dropped.
_KIND_VALUE = {
    NEGATED: NEGATIVE,
    RESOLVED: NEGATIVE,
    UNCERTAIN: UNCERTAIN_VALUE,
    PROBABLE: POSITIVE,
    HISTORICAL: None,
}
_PRIORITY = {POSITIVE: 3, UNCERTAIN_VALUE: 2, NEGATIVE: 1}


def fold_case(text: str) -> str:
    """Lowercase without changing length, so that offsets in the folded text fit the original."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


@dataclass(frozen=True)
class LabelResult:
    """The mined labels of one report (label -> 1/0/-1, mentioned labels only) and evidence."""

    labels: dict[str, int]
    evidence: list[dict[str, Any]]


class ReportEngine:
    """Mines one ontology's labels from report text; build once, call `label` per report."""

    def __init__(
        self,
        ontology: Ontology,
        ignore_sections: Sequence[str] | None = None,
        splitter: Callable[[str], list[Sentence]] = split_sentences,
    ) -> None:
        """`splitter` cuts a report into sentences; the benchmark swaps in spaCy's to compare."""
        options = ontology.options
        if ignore_sections is None:
            ignore_sections = options.get("ignore_sections", DEFAULT_IGNORED_SECTIONS)
        self.ontology = ontology
        self.ignored_sections = frozenset(s.lower() for s in ignore_sections)
        unknown = self.ignored_sections - {*SECTION_HEADERS, UNKNOWN_SECTION}
        if unknown:
            known = sorted({*SECTION_HEADERS, UNKNOWN_SECTION})
            raise ValueError(f"unknown section(s) {sorted(unknown)} to ignore; known: {known}")
        self._split = splitter
        self._no_finding: dict[str, Any] | None = options.get("no_finding")
        rule_labels = [self._no_finding["label"]] if self._no_finding else []
        self._patterns = compile_ontology(ontology, skip=rule_labels)
        self._triggers = TriggerMatcher()

    def label(self, text: str | None) -> LabelResult:
        """Label one report; empty or missing text yields no labels."""
        if not text or not text.strip():
            return LabelResult({}, [])
        lowered = fold_case(text)
        sentences = [s for s in self._split(text) if s.section not in self.ignored_sections]
        if not sentences:
            return LabelResult({}, [])
        starts = [s.start for s in sentences]
        scopes: dict[int, SentenceTriggers] = {}  # per sentence, scanned only where needed
        evidence: list[dict[str, Any]] = []
        for patterns in self._patterns:
            mentions, normal = _find(patterns, lowered)
            for start, end in normal:
                index = _sentence_index(starts, sentences, start, end)
                if index is not None:
                    trigger = "normal: " + text[start:end]
                    evidence.append(
                        _evidence(
                            patterns.label, NEGATIVE, text, sentences[index], start, end, trigger
                        )
                    )
            for start, end in mentions:
                index = _sentence_index(starts, sentences, start, end)
                if index is None:
                    continue
                if index not in scopes:
                    sentence = sentences[index]
                    found = self._triggers.find(lowered, sentence.start, sentence.end)
                    scopes[index] = SentenceTriggers(found, sentence.start, sentence.end)
                decisive = scopes[index].decide(lowered, start, end)
                value = POSITIVE if decisive is None else _KIND_VALUE[decisive.kind]
                if value is None:
                    continue
                trigger = None if decisive is None else f"{decisive.kind}: {decisive.text}"
                evidence.append(
                    _evidence(patterns.label, value, text, sentences[index], start, end, trigger)
                )
        evidence.sort(key=lambda e: (e["start"], e["label"]))
        labels = _combine(evidence)
        if self._no_finding:
            self._apply_no_finding(labels, evidence)
        return LabelResult(labels, evidence)

    def _apply_no_finding(self, labels: dict[str, int], evidence: list[dict[str, Any]]) -> None:
        """CheXpert's rule: No Finding is 1 when no other finding is present or uncertain."""
        ignore = set(self._no_finding.get("ignore") or [])
        target = self._no_finding["label"]
        if any(v != NEGATIVE for k, v in labels.items() if k not in ignore and k != target):
            return
        labels[target] = POSITIVE
        evidence.append(
            {
                "label": target,
                "status": POSITIVE,
                "sentence": None,
                "start": None,
                "end": None,
                "section": None,
                "trigger": "no_finding rule: no other finding is present or uncertain",
            }
        )


def _spans(pattern: re.Pattern[str] | None, lowered: str) -> list[Span]:
    return [] if pattern is None else [m.span() for m in pattern.finditer(lowered)]


def _without_overlaps(spans: list[Span], blockers: list[Span]) -> list[Span]:
    """`spans` minus those overlapping a blocker; both sorted, blockers disjoint (linear time)."""
    kept: list[Span] = []
    i = 0
    for start, end in spans:
        while i < len(blockers) and blockers[i][1] <= start:
            i += 1
        if i == len(blockers) or blockers[i][0] >= end:
            kept.append((start, end))
    return kept


def _sentence_index(
    starts: list[int], sentences: list[Sentence], start: int, end: int
) -> int | None:
    """The counted sentence that holds [start, end), or None (ignored section, header, gap)."""
    index = bisect.bisect_right(starts, start) - 1
    if index < 0 or end > sentences[index].end:
        return None
    return index


def _find(patterns: LabelPatterns, lowered: str) -> tuple[list[Span], list[Span]]:
    """Mentions outside exclusions, and normal statements that no mention overlaps."""
    mentions = _spans(patterns.mention, lowered)
    if mentions and patterns.exclusion is not None:
        mentions = _without_overlaps(mentions, _spans(patterns.exclusion, lowered))
    # A mention beats a normal statement it overlaps: "heart size is not enlarged".
    return mentions, _without_overlaps(_spans(patterns.normal, lowered), mentions)


def _evidence(
    label: str,
    value: int,
    text: str,
    sentence: Sentence,
    start: int,
    end: int,
    trigger: str | None,
) -> dict[str, Any]:
    return {
        "label": label,
        "status": value,
        "sentence": text[sentence.start : sentence.end],
        "start": start,
        "end": end,
        "section": sentence.section,
        "trigger": trigger,
    }


def _combine(evidence: list[dict[str, Any]]) -> dict[str, int]:
    """Present beats uncertain beats absent, per label."""
    labels: dict[str, int] = {}
    for item in evidence:
        label, value = item["label"], item["status"]
        if label not in labels or _PRIORITY[value] > _PRIORITY[labels[label]]:
            labels[label] = value
    return labels
