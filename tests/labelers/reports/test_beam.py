"""`LabelReports` in a Beam pipeline (FnApiRunner, in-process)."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from labelmill.labelers.reports.beam import LabelReports


def summary(record: dict) -> tuple:
    """What a record says, in a hashable form: id, mentioned labels, number of evidence items."""
    labels = {k: v for k, v in record["labels"].items() if v is not None}
    return record["id"], tuple(sorted(labels.items())), len(record["evidence"])


def test_label_reports_transform() -> None:
    reports = [("a", "IMPRESSION: Small left pneumothorax."), ("b", None)]
    with BeamTestPipeline(options=PipelineOptions(runner="FnApiRunner")) as pipeline:
        mined = pipeline | beam.Create(reports) | LabelReports("chestxray14")
        assert_that(
            mined | beam.Map(summary),
            equal_to([("a", (("Pneumothorax", 1),), 1), ("b", (), 0)]),
        )
