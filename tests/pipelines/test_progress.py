"""Progress at sample granularity from one log (or the job's metrics), agreeing with run.json."""

from __future__ import annotations

import json
from dataclasses import replace

from labelmill.pipelines.plan import Plan
from labelmill.pipelines.progress import Progress, Reporter, summary_table
from labelmill.schemas.config import BuildConfig


def plan(out) -> Plan:
    return Plan(BuildConfig(input="m.csv", output=str(out)), "f", ())


def test_workers_lines_add_up_and_only_new_bytes_are_read(tmp_path):
    (tmp_path / "_work").mkdir()
    first, second = Reporter(plan(tmp_path), every=0), Reporter(plan(tmp_path), every=3600)
    progress = Progress(plan(tmp_path), enabled=False)
    with progress:
        first.add(3, 1)
        second.add(5, 0)
        assert progress.counts() == (3, 1)  # the second reporter has not flushed yet
        second.flush()
        first.add(1, 2)
        assert progress.counts() == (9, 3)
        progress.final = (10, 3)
        assert progress.counts() == (10, 3)


def test_object_store_output_reads_the_job_metrics(tmp_path):
    remote = replace(plan(tmp_path), config=BuildConfig(input="m.csv", output="memory://o"))
    progress = Progress(remote, enabled=False)
    assert progress.counts() == (0, 0)  # no job yet
    Reporter(remote, every=0).add(4, 4)  # no local log to write: nothing breaks


def test_the_sample_builds_log_matches_its_summary(sample_build):
    summary = json.loads((sample_build / "run.json").read_text())
    progress = Progress(plan(sample_build), enabled=False)
    counts = summary["counts"]
    assert progress.counts() == (counts["written"], counts["rejected"])
    table = summary_table(summary)
    assert table.row_count >= 5
