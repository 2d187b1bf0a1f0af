"""Report mining: per label, how often reports affirm, negate or hedge it, with example sentences.

A source counts as a report miner when any of its evidence items carries a `sentence` and a
`status` (its records with no findings still count). Rates are over the samples whose miner
mentions the label at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from labelmill.audit.evidence import mention
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import rate
from labelmill.audit.votes import Votes
from labelmill.labelers.aggregate.votes import source_names

PER_STATUS = 3
EXAMPLES = 3
STATUSES = (1, 0, -1)


def is_mined(evidence: list[Any]) -> bool:
    return any(isinstance(e, dict) and "sentence" in e and "status" in e for e in evidence)


class Mining:
    """Label values and evidence sentences of every report-mining source."""

    def __init__(self) -> None:
        self.samples = 0
        self.reports = 0
        self.present: Counter[str] = Counter()
        self.values: dict[str, Counter[tuple[str, int]]] = defaultdict(Counter)
        self.evidence: dict[str, Counter[int]] = defaultdict(Counter)
        self.examples: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
        self.sections: dict[str, Counter[str]] = defaultdict(Counter)
        self.mined: set[str] = set()

    def add(self, sample: ShardSample, votes: Votes) -> None:
        self.samples += 1
        self.reports += bool((sample.doc.get("report") or {}).get("present"))
        report = sample.report
        for source, record in zip(source_names(votes.records), votes.records, strict=True):
            if is_mined(record.evidence):
                self.mined.add(source)
            self.present[source] += 1
            self.values[source].update(
                (label, v) for label, v in record.labels.items() if v in STATUSES
            )
            for item in record.evidence:
                status = item.get("status")
                if status not in STATUSES or "sentence" not in item:
                    continue
                self.evidence[source][status] += 1
                self.sections[source][str(item.get("section") or "none")] += 1
                bucket = self.examples[(source, str(item.get("label")), status)]
                if len(bucket) < PER_STATUS:
                    bucket.append(
                        {
                            "key": votes.key,
                            "status": status,
                            "sentence": str(item.get("sentence")),
                            "mention": mention(item, report),
                            "section": item.get("section"),
                            "trigger": item.get("trigger"),
                        }
                    )

    def _examples(self, source: str, label: str) -> list[dict[str, Any]]:
        """One example per status first, then more, up to EXAMPLES."""
        buckets = [list(self.examples.get((source, label, s), [])) for s in STATUSES]
        picked: list[dict[str, Any]] = []
        while len(picked) < EXAMPLES and any(buckets):
            for bucket in buckets:
                if bucket and len(picked) < EXAMPLES:
                    picked.append(bucket.pop(0))
        return picked

    def result(self) -> dict[str, Any]:
        sources = {}
        for source in sorted(self.mined):
            values = self.values[source]
            labels = {}
            for label in sorted({label for label, _ in values}):
                pos, neg, unc = (values[(label, s)] for s in STATUSES)
                mentioned = pos + neg + unc
                labels[label] = {
                    "mentioned": mentioned,
                    "positive": pos,
                    "negative": neg,
                    "uncertain": unc,
                    "negation_rate": rate(neg, mentioned),
                    "uncertainty_rate": rate(unc, mentioned),
                    "examples": self._examples(source, label),
                }
            ev = self.evidence[source]
            sources[source] = {
                "samples": self.present[source],
                "evidence": {"positive": ev[1], "negative": ev[0], "uncertain": ev[-1]},
                "sections": dict(sorted(self.sections[source].items())),
                "labels": labels,
            }
        return {"samples": self.samples, "with_report": self.reports, "sources": sources}
