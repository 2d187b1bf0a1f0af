"""Carry the manifest's own `labels` column through as a label source.

Sources often ship labels (a dataset's class, a registry's findings). They become one record,
source "manifest", each label a positive vote. With a harmonized mapping (raw string -> ontology
label or None) the raw strings are mapped onto the ontology first; the raw ones stay in the
evidence so nothing is lost, and unmapped strings are listed there too. A raw string may map to
several labels ("hydropneumothorax" -> Effusion and Pneumothorax): each gets the vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelmill.labelers.base import Labeler
from labelmill.schemas.records import POSITIVE, LabelRecord, Sample


class ManifestLabels(Labeler):
    """Labels from the manifest, optionally harmonized onto an ontology."""

    source = "manifest"

    def __init__(self, mapping: dict[str, list[str] | str | None] | None = None) -> None:
        self.mapping = mapping

    def label_batch(self, samples: Sequence[Sample]) -> list[LabelRecord]:
        return [self._label(sample.row.labels) for sample in samples]

    def _label(self, raw_labels: Sequence[str]) -> LabelRecord:
        if self.mapping is None:
            return LabelRecord(self.source, labels=dict.fromkeys(raw_labels, POSITIVE))
        labels: dict[str, int] = {}
        evidence: list[dict[str, Any]] = []
        for raw in raw_labels:
            targets = self.mapping.get(raw) or []
            targets = [targets] if isinstance(targets, str) else targets
            labels.update(dict.fromkeys(targets, POSITIVE))
            status = "mapped" if targets else "unmapped"
            evidence.append({"label": "|".join(targets) or None, "raw": raw, "status": status})
        return LabelRecord(self.source, labels=labels, evidence=evidence, meta={"harmonized": True})

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "harmonized": self.mapping is not None}
