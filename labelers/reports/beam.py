"""`LabelReports`, report mining as a Beam transform for a user's own pipeline.

Input: a PCollection of (id, text); output: one dict per report with `id`, `labels` (every label of
the ontology, null when not mentioned) and `evidence`, the same records the CLI writes. The
engine is compiled once per worker in `DoFn.setup`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam

from labelmill.labelers.reports.labeler import get_engine, label_text


class _LabelDoFn(beam.DoFn):
    def __init__(self, ontology: str, ignore_sections: tuple[str, ...] | None) -> None:
        self._ontology = ontology
        self._ignore_sections = ignore_sections

    def setup(self) -> None:
        get_engine(self._ontology, self._ignore_sections)

    def process(self, element: tuple[str, str | None]) -> Iterator[dict[str, Any]]:
        report_id, text = element
        yield {"id": report_id, **label_text(text, self._ontology, self._ignore_sections)}


class LabelReports(beam.PTransform):
    """Mine `ontology`'s labels (a built-in name or a YAML path) from (id, text) pairs."""

    def __init__(
        self, ontology: str = "chestxray14", ignore_sections: Sequence[str] | None = None
    ) -> None:
        super().__init__()
        self._ontology = str(ontology)
        self._ignore_sections = None if ignore_sections is None else tuple(ignore_sections)

    def expand(self, reports: beam.PCollection) -> beam.PCollection:
        return reports | "MineReports" >> beam.ParDo(
            _LabelDoFn(self._ontology, self._ignore_sections)
        )
