"""Running report mining: `ReportLabeler` for the build, `label_text(s)` for plain text.

The labeler holds only plain options until `setup()`, so that Beam can ship it to workers; the
compiled engine is built there once. `label_text` returns every label of the ontology (null when
not mentioned), the shape of the CLI output. `label_texts` labels many reports, in a pool of
worker processes if asked: chunks large enough to amortise sending them to a worker, returned in
input order by `Pool.imap`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from labelmill.labelers.base import Labeler
from labelmill.labelers.reports.engine import ENGINE_VERSION, ReportEngine
from labelmill.schemas.ontology import load_ontology
from labelmill.schemas.records import LabelRecord, Sample

DEFAULT_CHUNK = 256  # reports per task sent to a worker process


@lru_cache(maxsize=8)
def get_engine(
    ontology: str, ignore_sections: tuple[str, ...] | None = None, language: str | None = None
) -> ReportEngine:
    """One engine per ontology, section setting and language per process; compiling is costly."""
    return ReportEngine(load_ontology(ontology), ignore_sections, language=language)


def label_text(
    text: str | None,
    ontology: str = "chestxray14",
    ignore_sections: Sequence[str] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """Mine one report: `{"labels": {every label: 1/0/-1/None}, "evidence": [...]}`."""
    sections = None if ignore_sections is None else tuple(ignore_sections)
    engine = get_engine(ontology, sections, language)
    result = engine.label(text)
    labels = {name: result.labels.get(name) for name in engine.ontology.labels}
    return {"labels": labels, "evidence": result.evidence}


class ReportLabeler(Labeler):
    """Labels each sample's report with an ontology's findings, with evidence for every label.

    `ontology` is a built-in name or a YAML path; `ignore_sections` overrides the ontology's list
    of sections whose mentions are not findings (by default indication, history, comparison,
    technique); `language` is the reports' language (default: the ontology's own).
    """

    def __init__(
        self,
        ontology: str = "chestxray14",
        ignore_sections: Sequence[str] | None = None,
        language: str | None = None,
    ) -> None:
        self.ontology = str(ontology)
        self.ignore_sections = None if ignore_sections is None else tuple(ignore_sections)
        self.language = language
        self._engine: ReportEngine | None = None

    @property
    def engine(self) -> ReportEngine:
        if self._engine is None:
            self.setup()
        return self._engine

    @property
    def source(self) -> str:  # type: ignore[override]
        return f"reports/{self.engine.ontology.name}"

    def setup(self) -> None:
        """Load and compile the ontology once per worker."""
        self._engine = get_engine(self.ontology, self.ignore_sections, self.language)

    def __getstate__(self) -> dict[str, Any]:
        """Ship only the options; workers compile their own engine in `setup()`."""
        state: dict[str, Any] = {"ontology": self.ontology, "ignore_sections": self.ignore_sections}
        if self.language is not None:
            state["language"] = self.language
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def label_batch(self, samples: Sequence[Sample]) -> list[LabelRecord]:
        engine = self.engine
        meta = {
            "ontology": engine.ontology.name,
            "ontology_hash": engine.ontology.hash,
            "version": ENGINE_VERSION,
        }
        records = []
        for sample in samples:
            result = engine.label(sample.report)
            records.append(
                LabelRecord(
                    source=self.source,
                    labels=result.labels,
                    evidence=result.evidence,
                    meta=dict(meta),
                )
            )
        return records

    def describe(self) -> dict[str, Any]:
        engine = self.engine
        return {
            "source": self.source,
            "ontology": engine.ontology.name,
            "ontology_hash": engine.ontology.hash,
            "engine_version": ENGINE_VERSION,
            "ignored_sections": sorted(engine.ignored_sections),
            "language": engine.language.code,
        }


def _label_chunk(task: tuple[str, str | None, list[str | None]]) -> list[dict[str, Any]]:
    """Worker entry point: label one chunk of texts with the named ontology and language."""
    ontology, language, texts = task
    return [label_text(text, ontology, language=language) for text in texts]


def _chunks(texts: Sequence[str | None], size: int) -> Iterator[list[str | None]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def label_texts(
    texts: Sequence[str | None],
    ontology: str = "chestxray14",
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """`label_text` for every text, with `workers` processes (1 = in this process)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    tasks = ((ontology, language, chunk) for chunk in _chunks(texts, chunk_size))
    if workers == 1 or len(texts) <= chunk_size:
        return [result for task in tasks for result in _label_chunk(task)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return [result for chunk in pool.imap(_label_chunk, tasks) for result in chunk]
