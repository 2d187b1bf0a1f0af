"""The trigger vocabulary of the ConText-style rule engine, compiled into one regular expression.

A trigger has a kind (what it does to a finding), a direction (which side of it it reaches) and a
window in words. Pseudo-triggers ("no change") are matched only to stop the words inside them from
acting as triggers; terminators ("but") end the scope of every trigger. The vocabulary is general
radiology language, not fitted to any label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labelmill.labelers.reports.vocabulary import bucketed

NEGATED, UNCERTAIN, RESOLVED, HISTORICAL = "negated", "uncertain", "resolved", "historical"
PROBABLE = "probable"
PSEUDO, TERMINATOR = "pseudo", "terminator"
FORWARD, BACKWARD, BOTH = "forward", "backward", "both"


@dataclass(frozen=True)
class TriggerRule:
    """A family of trigger patterns (regular expressions over lowercased text) sharing an effect."""

    kind: str
    direction: str
    patterns: tuple[str, ...]
    window: int = 12


RULES: tuple[TriggerRule, ...] = (
    TriggerRule(
        NEGATED,
        FORWARD,
        (
            r"no",
            r"not",
            r"without",
            r"negative for",
            r"free of",
            r"clear of",
            r"absence of",
            r"nor",
            r"neither",
            r"never",
            r"rather than",
            r"no (?:\w+ )?(?:evidence|signs?|findings?|suggestion|indication) "
            r"(?:of|for|to suggest)",
            r"(?:is|are|was|were) not",
            r"(?:isn't|aren't|wasn't|weren't)",
            r"(?:did|does|do) not (?:show|demonstrate|reveal)",
            r"fails? to (?:show|demonstrate|reveal)",
            r"unlikely",
        ),
    ),
    TriggerRule(
        NEGATED,
        BACKWARD,
        (
            r"(?:is|are|was|were|has been|have been)? ?(?:not|no longer) (?:be )?"
            r"(?:seen|identified|present|visuali[sz]ed|demonstrated|appreciated|evident|noted|"
            r"detected|apparent|visible|shown)",
            r"(?:is|are|was|were)? ?absent",
            r"(?:is|are) unlikely",
            r"(?:is|are|was|were|has been|have been) (?:excluded|ruled out)",
        ),
        window=8,
    ),
    TriggerRule(
        UNCERTAIN,
        FORWARD,
        (
            r"may",
            r"might",
            r"could",
            r"can",
            r"possible",
            r"possibly",
            r"possibility of",
            r"perhaps",
            r"maybe",
            r"suggestion of",
            r"questionable",
            r"question(?: of)?",
            r"suspicious (?:for|of)",
            r"suspect(?:ed)?",
            r"suspicion (?:for|of)",
            r"concerning for",
            r"concern for",
            r"worrisome for",
            r"suggestive of",
            r"suggest(?:s|ing)?",
            r"(?:may|could|might) (?:represent|reflect|be|indicate)",
            r"(?:may|could|might) be (?:due to|related to|secondary to|from)",
            r"cannot (?:be )?(?:excluded?|ruled? out)",
            r"can ?not (?:be )?(?:excluded?|ruled? out)",
            r"can't (?:be )?(?:excluded?|ruled? out)",
            r"(?:difficult|hard) to (?:completely |entirely )?(?:exclude|rule out)",
            r"exclude",
            r"correlate (?:clinically )?for",
            r"rule out",
            r"r/o",
            r"differential (?:diagnosis |considerations? )?(?:includes?|including|of|is)",
            r"(?:equivocal|indeterminate|uncertain|vague|subtle)",
            r"(?:may|could) have",
            r"favou?red",
            r"(?:cannot|can ?not) (?:be )?distinguish(?:ed)?",
            r"or other",
            r"evaluate for",
            r"evaluation for",
            r"assess for",
        ),
        window=10,
    ),
    TriggerRule(
        UNCERTAIN,
        BACKWARD,
        (
            r"(?:(?:is|are|was|were) not|(?:cannot|can ?not|can't) be|not) "
            r"(?:entirely |completely |definitely )?(?:excluded|ruled out)",
            r"(?:is|are|was|were) (?:also )?(?:possible|suspected|questioned|favou?red)",
            r"(?:is|are) (?:also )?in the differential",
            r"(?:would|could|should) be (?:a )?considerations?",
            r"(?:could|may|might) be (?:present|seen)",
            r"(?:could|may|might) (?:also )?(?:have|be) (?:this|a similar) appearance",
        ),
        window=6,
    ),
    # "A versus B": B is the alternative; A, named first, is the favoured reading (as indexers of
    # OpenI read it), so "versus" reaches forward only.
    TriggerRule(UNCERTAIN, FORWARD, (r"versus", r"vs\.?", r"(?:or )?less likely"), window=6),
    TriggerRule(
        # ConText's "probable existence": radiologists and indexers treat these as findings.
        PROBABLE,
        FORWARD,
        (
            r"probable",
            r"probably",
            r"(?:most |more )?likely",
            r"presumed",
            r"presumably",
            r"(?:most )?consistent with",
            r"compatible with",
            r"representing",
        ),
        window=10,
    ),
    TriggerRule(PROBABLE, BACKWARD, (r"(?:is|are) (?:most |more )?likely",), window=6),
    TriggerRule(
        RESOLVED,
        FORWARD,
        (
            r"(?:interval |near(?:ly)? |complete |near-complete )?resolution of",
            r"resolving",
            r"no longer",
            r"(?:interval )?removal of",
            r"clearing of",
        ),
        window=8,
    ),
    TriggerRule(RESOLVED, BOTH, (r"resolved", r"cleared"), window=8),
    TriggerRule(
        RESOLVED,
        BACKWARD,
        (
            r"(?:has|have|had) (?:since )?(?:resolved|cleared|been removed|been resolved)",
            r"(?:is|are) (?:now )?(?:resolved|gone|removed)",
            r"(?:is|are|has|have)? ?(?:nearly|almost|completely) resolved",
        ),
        window=12,
    ),
    TriggerRule(
        HISTORICAL,
        FORWARD,
        (
            r"history of",
            r"hx of",
            r"h/o",
            r"previous(?:ly)? (?:treated|known)",
            r"remote",
            r"known history of",
            r"past medical history",
        ),
        window=4,
    ),
    TriggerRule(
        PSEUDO,
        BOTH,
        (
            r"no (?:significant |appreciable |definite |substantial |acute |interval |"
            r"gross |major |marked |substantial )*(?:change|changes|increase|decrease|"
            r"progression|worsening|improvement|difference)",
            r"not (?:significantly |appreciably |substantially )?(?:changed|increased|decreased|"
            r"improved|worsened)",
            r"without (?:significant |interval |appreciable |definite )*(?:change|progression)",
            r"not only",
            r"not necessarily",
            r"gram negative",
            r"no further",
            r"can be seen",
            r"may be seen",
            r"which (?:may|could) (?:be|represent) (?:normal|technique|positional|projection)",
        ),
    ),
    TriggerRule(
        TERMINATOR,
        BOTH,
        (
            r"but",
            r"however",
            r"although",
            r"though",
            r"yet",
            r"except",
            r"apart from",
            r"aside from",
            r"with the exception of",
            r"other than",
            r"which",
            r"whereas",
            r"while",
            r"there (?:is|are|has been|have been)",
            r"now",
            r";",
            r":",
        ),
    ),
)


@dataclass(frozen=True)
class Trigger:
    """One trigger found in a report: its span, what it does and how far it reaches."""

    start: int
    end: int
    kind: str
    direction: str
    window: int
    text: str


class TriggerMatcher:
    """All trigger rules as one alternation, longest pattern first, scanned once per report.

    Named groups tell which rule matched; `bucketed` keeps the scan fast.
    """

    def __init__(self) -> None:
        alternatives: list[tuple[str, str]] = []
        self._rules: dict[str, TriggerRule] = {}
        for i, rule in enumerate(RULES):
            group = f"r{i}"
            self._rules[group] = rule
            alternatives.extend((pattern, group) for pattern in rule.patterns)
        alternatives.sort(key=lambda item: len(item[0]), reverse=True)
        # Named groups "r<rule>_<copy>" tell which rule matched.
        body = bucketed([p for p, _ in alternatives], [group for _, group in alternatives])
        self._regex = re.compile(r"(?<![\w/])" + body + r"(?![\w/])")

    def find(self, lowered: str, start: int = 0, end: int | None = None) -> list[Trigger]:
        """Triggers in lowered[start:end], left to right; pseudo-triggers are left out."""
        found: list[Trigger] = []
        for match in self._regex.finditer(lowered, start, len(lowered) if end is None else end):
            rule = self._rules[match.lastgroup.split("_")[0]]
            if rule.kind == PSEUDO:
                continue  # matched only so that its words do not trigger
            found.append(
                Trigger(
                    match.start(),
                    match.end(),
                    rule.kind,
                    rule.direction,
                    rule.window,
                    match.group(),
                )
            )
        return found
