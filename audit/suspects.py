"""Suspect samples, ranked the way confident learning ranks label issues, with what a reader
needs to judge each one: the deciding evidence of every vote, a thumbnail, the label map.

Each 1/0 vote of a source on a label gets a self-confidence: the final probability p of the
label when it voted 1, 1 - p when it voted 0 (without an aggregator, p is the majority vote's).
A sample's suspect score is 1 minus its lowest self-confidence: 0.9 means some source voted
against a label the final labels are 90% sure of. As in confident learning, a vote is a
*confident issue* when the probability of the other value reaches the mean self-confidence of
that source's votes of the other value on that label (its per-class threshold).

Bounded memory at any size: the EXPORT best samples (for suspects.csv) and the TOP best's
thumbnails; a thumbnail is made only when a sample enters the current TOP, so the final TOP
always has one. Per (source, label, vote) two sums for the thresholds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from labelmill.audit.evidence import deciding
from labelmill.audit.read import ShardSample
from labelmill.audit.stats import histogram, rate, rnd
from labelmill.audit.thumbs import data_uri, largest_classes, overlay, shrink
from labelmill.audit.votes import Votes, consensus
from labelmill.labelers.aggregate.votes import source_names

TOP = 20
EXPORT = 200
CELLS = 8  # labels listed per suspect


def evidence_text(evidence: dict[str, Any] | None) -> str:
    """Evidence as one line of text: the sentence, the raw string or the score."""
    if not evidence:
        return ""
    kind = evidence["kind"]
    if kind == "sentence":
        return evidence["sentence"]
    if kind == "raw":
        return f"source label {evidence['raw']!r}"
    if kind == "score":
        return f"score {evidence['score']}"
    return str(evidence.get("trigger", ""))


def rank_key(detail: dict[str, Any]) -> tuple[float, int, int, str]:
    """Best first: higher score, more conflicts, more hedges, then key."""
    return (
        -detail["score"],
        -detail["conflicting_labels"],
        -detail["uncertain_votes"],
        detail["key"],
    )


class Suspects:
    """Keeps the EXPORT most suspect samples while streaming, thumbnails for the TOP."""

    def __init__(self, top: int = TOP, export: int = EXPORT) -> None:
        self.top, self.export = top, max(export, top)
        self.samples = 0
        self.sources: set[str] = set()
        self.per_sample: Counter[int] = Counter()
        self.ranked: list[dict[str, Any]] = []
        self.best: list[tuple[tuple[float, int, int, str], str]] = []
        self.thumbs: dict[str, dict[str, str]] = {}
        self.confidence: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0.0, 0])

    def add(self, sample: ShardSample, votes: Votes) -> None:
        self.samples += 1
        self.sources.update(votes.by_source)
        probability = consensus(votes)
        labels = sorted({label for cast in votes.by_source.values() for label in cast})
        cells, conflicts, lowest = [], 0, 1.0
        for label in labels:
            cast = {s: c[label] for s, c in sorted(votes.by_source.items()) if label in c}
            conflict = {0, 1} <= set(cast.values())
            conflicts += conflict
            p = probability.get(label)
            worst = 1.0
            for source, v in cast.items():
                if p is None or v not in (0, 1):
                    continue
                confidence = p if v == 1 else 1 - p
                sums = self.confidence[(source, label, v)]
                sums[0] += confidence
                sums[1] += 1
                worst = min(worst, confidence)
            lowest = min(lowest, worst)
            if conflict or worst < 0.5:
                cells.append({"label": label, "final": rnd(p), "votes": cast, "low": rnd(worst)})
        hedged = [
            {"source": s, "label": label}
            for s, cast in sorted(votes.by_source.items())
            for label, v in sorted(cast.items())
            if v == -1
        ]
        self.per_sample[conflicts] += 1
        if not cells and not hedged:
            return
        cells.sort(key=lambda c: (c["low"], c["label"]))
        detail = {
            "key": votes.key,
            "id": votes.id,
            "score": rnd(1 - lowest),
            "final_from": "aggregator" if votes.has_final else "majority vote",
            "conflicting_labels": conflicts,
            "uncertain_votes": len(hedged),
            "cells": self._with_evidence(cells[:CELLS], sample, votes),
            "uncertain": hedged,
        }
        self.ranked.append(detail)
        if len(self.ranked) > 2 * self.export:
            self.ranked = sorted(self.ranked, key=rank_key)[: self.export]
        self._thumbnail(detail, sample)

    @staticmethod
    def _with_evidence(
        cells: list[dict[str, Any]], sample: ShardSample, votes: Votes
    ) -> list[dict[str, Any]]:
        records = dict(zip(source_names(votes.records), votes.records, strict=True))
        report = sample.report
        for cell in cells:
            cell["evidence"] = {
                source: deciding(records[source], cell["label"], report)
                for source in cell["votes"]
                if source in records
            }
        return cells

    def _thumbnail(self, detail: dict[str, Any], sample: ShardSample) -> None:
        """A thumbnail (and map overlay) when the sample enters the current TOP."""
        key = rank_key(detail)
        if len(self.best) >= self.top and key >= self.best[-1][0]:
            return
        image = shrink(sample.image) if sample.image is not None else None
        if image is None:
            return
        thumbs = {"thumb": data_uri(image)}
        maps = sample.label_maps()
        index = next((a for a in maps.values() if a.dtype.kind in "iu" and a.ndim in (2, 3)), None)
        if index is not None:
            top1 = index[0] if index.ndim == 3 else index
            thumbs["thumbmap"] = data_uri(overlay(image, top1, largest_classes(top1)))
        self.best = sorted([*self.best, (key, detail["key"])])
        self.thumbs[detail["key"]] = thumbs
        for _, dropped in self.best[self.top :]:
            self.thumbs.pop(dropped, None)
        self.best = self.best[: self.top]

    def thresholds(self) -> dict[tuple[str, str, int], float]:
        return {k: s / n for k, (s, n) in self.confidence.items() if n}

    def exported(self) -> list[dict[str, Any]]:
        """The EXPORT most suspect samples, each vote marked a confident issue or not."""
        mean = self.thresholds()
        out = sorted(self.ranked, key=rank_key)[: self.export]
        for detail in out:
            issues = 0
            for cell in detail["cells"]:
                p = cell["final"]
                cell["issues"] = sorted(
                    s
                    for s, v in cell["votes"].items()
                    if p is not None
                    and v in (0, 1)
                    and (1 - p if v == 1 else p) >= mean.get((s, cell["label"], 1 - v), 0.5)
                )
                issues += len(cell["issues"])
            detail["confident_issues"] = issues
        return out

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per vote of every exported suspect, for relabeling (suspects.csv)."""
        rows = []
        for rank, detail in enumerate(self.exported(), 1):
            for cell in detail["cells"]:
                p = cell["final"]
                for source, v in cell["votes"].items():
                    confidence = None if p is None or v not in (0, 1) else (p if v else 1 - p)
                    rows.append(
                        {
                            "rank": rank,
                            "key": detail["key"],
                            "id": detail["id"],
                            "suspect_score": detail["score"],
                            "label": cell["label"],
                            "final_probability": p,
                            "source": source,
                            "vote": v,
                            "self_confidence": rnd(confidence),
                            "confident_issue": source in cell["issues"],
                            "evidence": evidence_text(cell["evidence"].get(source)),
                        }
                    )
        return rows

    def result(self) -> dict[str, Any]:
        ranked = self.exported()
        return {
            "sources": len(self.sources),
            "samples_with_conflict": self.samples - self.per_sample[0],
            "conflict_rate": rate(self.samples - self.per_sample[0], self.samples),
            "conflicting_labels_per_sample": histogram(self.per_sample),
            "ranked": len(ranked),
            "top": ranked[: self.top],
            "csv": "suspects.csv" if ranked else None,
        }
