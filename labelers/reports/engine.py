"""The report-mining engine: mentions, their context, and one value per label with evidence.

One scan of the report finds every label's phrases at once; each mention is classified by the
nearest trigger whose scope reaches it within its sentence (ConText: direction, window,
terminators, pseudo-triggers), the triggers scanned once per sentence that has a mention.
Normal statements ("heart size is normal") deny their label outright. Values combine per label
as present > uncertain > absent, the CheXpert convention; labels never mentioned stay null.
A present or uncertain mention's evidence also says where it is (`location`: side and zone, the
nearest such words of its sentence, from the language file), when its sentence names a place.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labelmill.labelers.reports.context import SentenceTriggers
from labelmill.labelers.reports.languages import ACCENTS, load_language
from labelmill.labelers.reports.locations import LocationFinder
from labelmill.labelers.reports.rules import (
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    PROBABLE,
    RESOLVED,
    UNCERTAIN,
    TriggerMatcher,
)
from labelmill.labelers.reports.sections import (
    UNKNOWN_SECTION,
    SectionSplitter,
    Sentence,
    fold_case,
)
from labelmill.labelers.reports.vocabulary import EXCLUSION, GAPPED, NORMAL, Vocabulary
from labelmill.schemas.ontology import Concept, Ontology
from labelmill.schemas.records import NEGATIVE, POSITIVE
from labelmill.schemas.records import UNCERTAIN as UNCERTAIN_VALUE

ENGINE_VERSION = "2.2.0"
DEFAULT_IGNORED_SECTIONS = ("indication", "history", "comparison", "technique")
# Trigger kind -> label value; historical and hypothetical mentions are not findings of this
# study and are dropped.
_KIND_VALUE = {
    NEGATED: NEGATIVE,
    RESOLVED: NEGATIVE,
    UNCERTAIN: UNCERTAIN_VALUE,
    PROBABLE: POSITIVE,
    HISTORICAL: None,
    HYPOTHETICAL: None,
}
_PRIORITY = {POSITIVE: 3, UNCERTAIN_VALUE: 2, NEGATIVE: 1}
_OTHER_FINDING = "\x00other finding"  # the no_finding rule's blockers; never a label


@dataclass(frozen=True)
class LabelResult:
    """The mined labels of one report (label -> 1/0/-1, mentioned labels only) and evidence."""

    labels: dict[str, int]
    evidence: list[dict[str, Any]]


class ReportEngine:
    """Mines one ontology's labels from report text; build once, call `label` per report.

    `language` (default: the ontology's own; a code or a language file's path) picks the section
    headers and triggers (`lang/CODE.yaml`) and the ontology's phrases in that language.
    """

    def __init__(
        self,
        ontology: Ontology,
        ignore_sections: Sequence[str] | None = None,
        splitter: Callable[[str], list[Sentence]] | None = None,
        language: str | None = None,
    ) -> None:
        """`splitter` cuts a report into sentences; the benchmark swaps in spaCy's to compare."""
        options = ontology.options
        self.language = load_language(language or ontology.language)
        code = self.language.code
        known_sections = {*self.language.sections, UNKNOWN_SECTION}
        self.ontology = ontology
        if ignore_sections is None:  # the ontology's list, as far as this language has them
            defaults = options.get("ignore_sections", DEFAULT_IGNORED_SECTIONS)
            ignore_sections = [s for s in defaults if s.lower() in known_sections]
        self.ignored_sections = frozenset(s.lower() for s in ignore_sections)
        unknown = self.ignored_sections - known_sections
        if unknown:
            known = sorted({*self.language.sections, UNKNOWN_SECTION})
            raise ValueError(f"unknown section(s) {sorted(unknown)} to ignore; known: {known}")
        self._split = splitter or SectionSplitter(self.language.sections).split
        openers = "|".join(self.language.finding_openers) or "(?!)"
        self._openers = re.compile(f"(?:{openers})" + r"(?![\w/])")
        self._no_finding: dict[str, Any] | None = options.get("no_finding")
        concepts = list(ontology.vocabulary(code))
        if self._no_finding:
            concepts = [c for c in concepts if c.name != self._no_finding["label"]]
            others = (self._no_finding.get("other_findings") or {}).get(code) or []
            concepts.append(Concept(_OTHER_FINDING, patterns=tuple(others)))
        self._vocabulary = Vocabulary(concepts, name_is_phrase=code == ontology.language)
        self._triggers = TriggerMatcher(self.language)
        self._locations = LocationFinder(self.language)

    def label(self, text: str | None) -> LabelResult:
        """Label one report; empty or missing text yields no labels."""
        if not text or not text.strip():
            return LabelResult({}, [])
        lowered = fold_case(text)
        if self.language.fold_accents:
            lowered = lowered.translate(ACCENTS)
        mentions = self._vocabulary.scan(lowered)
        if not mentions and not self._no_finding:  # nothing to decide: no need for sentences
            return LabelResult({}, [])
        sentences = [s for s in self._split(text) if self._counts(s, lowered)]
        if not sentences:
            return LabelResult({}, [])
        starts = [s.start for s in sentences]
        scopes: dict[int, SentenceTriggers] = {}  # per sentence, scanned only where needed
        places: dict[int, list[tuple[int, int, str, str]]] = {}  # location words, likewise
        evidence: list[dict[str, Any]] = []
        for start, end, roles in mentions:
            index = _sentence_index(starts, sentences, start, end)
            if index is None:
                continue
            sentence = sentences[index]
            for label, role in roles:
                if role == EXCLUSION:
                    continue
                if role == NORMAL:
                    trigger = "normal: " + text[start:end]
                    evidence.append(_evidence(label, NEGATIVE, text, sentence, start, end, trigger))
                    continue
                if index not in scopes:
                    scopes[index] = SentenceTriggers(
                        self._triggers, lowered, sentence.start, sentence.end
                    )
                decisive = scopes[index].decide(start, end, gapped=role == GAPPED)
                value = POSITIVE if decisive is None else _KIND_VALUE[decisive.kind]
                if value is None:
                    continue
                trigger = None if decisive is None else f"{decisive.kind}: {decisive.text}"
                item = _evidence(label, value, text, sentence, start, end, trigger)
                if value != NEGATIVE:
                    if index not in places:
                        places[index] = self._locations.matches(
                            lowered, sentence.start, sentence.end
                        )
                    location = self._locations.place(places[index], lowered, start, end)
                    if location:
                        item["location"] = location
                evidence.append(item)
        labels = _combine(evidence)
        blocked = labels.pop(_OTHER_FINDING, NEGATIVE) != NEGATIVE
        evidence = [e for e in evidence if e["label"] != _OTHER_FINDING]
        evidence.sort(key=lambda e: (e["start"], e["label"]))
        if self._no_finding and not blocked:
            self._apply_no_finding(labels, evidence)
        return LabelResult(labels, evidence)

    def _counts(self, sentence: Sentence, lowered: str) -> bool:
        """Whether a sentence's mentions are findings: not in an ignored section, unless a blank
        line or a finding statement after its first sentence ends that section."""
        if sentence.section not in self.ignored_sections or sentence.paragraph:
            return True
        return sentence.order > 0 and self._openers.match(lowered, sentence.start) is not None

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


def _sentence_index(
    starts: list[int], sentences: list[Sentence], start: int, end: int
) -> int | None:
    """The counted sentence that holds [start, end), or None (ignored section, header, gap)."""
    index = bisect.bisect_right(starts, start) - 1
    if index < 0 or end > sentences[index].end:
        return None
    return index


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
