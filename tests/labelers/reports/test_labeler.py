"""`ReportLabeler` as the build pipeline calls it, and `label_text` as the CLI calls it."""

from __future__ import annotations

import copy

import pytest

from labelmill.labelers.base import create
from labelmill.labelers.reports.engine import ENGINE_VERSION
from labelmill.labelers.reports.labeler import ReportLabeler, label_text, label_texts
from labelmill.schemas.ontology import load_ontology
from labelmill.schemas.records import InputRow, Sample


def sample(report: str | None, key: str = "a") -> Sample:
    row = InputRow(row=0, id=key, image=f"{key}.png", report=report)
    return Sample(row=row, key=key, image=b"", image_ext="png", image_info={}, report=report)


def test_label_batch_returns_one_record_per_sample_in_order() -> None:
    labeler = create("reports", {"ontology": "chestxray14"})
    assert isinstance(labeler, ReportLabeler)
    labeler.setup()
    texts = ["FINDINGS: Small left pneumothorax.", None, "IMPRESSION: No effusion.", ""]
    records = labeler.label_batch([sample(t, str(i)) for i, t in enumerate(texts)])
    assert [r.labels for r in records] == [{"Pneumothorax": 1}, {}, {"Effusion": 0}, {}]
    first = records[0]
    assert first.source == "reports/chestxray14"
    assert first.meta == {
        "ontology": "chestxray14",
        "ontology_hash": load_ontology("chestxray14").hash,
        "version": ENGINE_VERSION,
    }
    assert first.evidence[0]["label"] == "Pneumothorax"
    assert set(first.evidence[0]) == {
        "label",
        "status",
        "sentence",
        "start",
        "end",
        "section",
        "trigger",
        "location",
    }
    assert first.evidence[0]["location"] == {"side": "left"}
    assert records[1].evidence == []


def test_describe_names_ontology_and_version() -> None:
    described = ReportLabeler(ontology="chexpert").describe()
    assert described["source"] == "reports/chexpert"
    assert described["ontology_hash"] == load_ontology("chexpert").hash
    assert described["engine_version"] == ENGINE_VERSION


def test_copies_carry_options_only() -> None:
    labeler = ReportLabeler(ontology="chexpert", ignore_sections=["history"])
    labeler.setup()
    state = labeler.__getstate__()
    assert state == {"ontology": "chexpert", "ignore_sections": ("history",)}
    clone = copy.deepcopy(labeler)
    assert clone._engine is None
    records = clone.label_batch([sample("INDICATION: pneumonia.")])
    assert records[0].labels["Pneumonia"] == 1  # indication counts once only history is ignored


def test_label_text_lists_every_label() -> None:
    result = label_text("Cardiomegaly.", "chestxray14")
    assert list(result["labels"]) == load_ontology("chestxray14").labels
    assert result["labels"]["Cardiomegaly"] == 1
    assert result["labels"]["Effusion"] is None
    assert label_text(None)["evidence"] == []


TEXTS = [f"Report {i}. {'No effusion.' if i % 2 else 'Small pneumothorax.'}" for i in range(9)]
TEXTS[4] = None


def test_pool_preserves_order_and_results() -> None:
    alone = label_texts(TEXTS, "chestxray14", workers=1)
    pooled = label_texts(TEXTS, "chestxray14", workers=2, chunk_size=2)
    assert pooled == alone
    assert [r["labels"]["Effusion"] for r in alone] == [None, 0, None, 0, None, 0, None, 0, None]
    assert alone[4]["evidence"] == []


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        label_texts(TEXTS, workers=0)
