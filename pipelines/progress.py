"""Progress for long builds, at sample granularity: samples written and rejected, samples/s.

Workers may be other processes or other machines, so they report what they did: each shard's
worker adds Beam counters (`labelmill/written`, `labelmill/rejected`, shown by Dataflow and read
from a running job's metrics) and, for a local output, appends a short line to
`_work/progress.log` every half second. The launcher reads only the new bytes of that one file
(or the job's metrics), never a file per shard. When the build ends, the bar shows run.json's
counts, so it always agrees with the summary table.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from labelmill.fileio import join
from labelmill.pipelines.plan import WORK, Plan

LOG = "progress.log"


def log_path(plan: Plan) -> str | None:
    """The local progress log, or None for an output on an object store (metrics there)."""
    output = plan.config.output
    return None if "://" in output else join(output, WORK, LOG)


class Reporter:
    """Worker side: counts samples and appends `written rejected` lines now and then (one
    small O_APPEND write, atomic on a local file system)."""

    def __init__(self, plan: Plan, every: float = 0.5) -> None:
        self.path, self.every = log_path(plan), every
        self.pending = [0, 0]
        self.last = time.monotonic()

    def add(self, written: int, rejected: int) -> None:
        self.pending[0] += written
        self.pending[1] += rejected
        if time.monotonic() - self.last >= self.every:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.path is None or self.pending == [0, 0]:
            return
        line = f"{self.pending[0]} {self.pending[1]}\n".encode()
        self.pending = [0, 0]
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def metrics_counts(result: Any) -> tuple[int, int] | None:
    """(written, rejected) from a running job's Beam counters, if its runner reports them."""
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_namespace("labelmill"))["counters"]
    except Exception:  # a runner without live metrics: the bar waits for the end
        return None
    found = {c.key.metric.name: (c.committed or c.attempted or 0) for c in counters}
    return found.get("written", 0), found.get("rejected", 0)


class Progress:
    """Context manager that shows a live bar while the pipeline runs; `result` may be set to
    the running job so that its metrics feed the bar when there is no local log."""

    def __init__(self, plan: Plan, enabled: bool = True, every: float = 0.5) -> None:
        self.path, self.enabled, self.every = log_path(plan), enabled, every
        self.result: Any = None
        self.final: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._offset, self._counts = 0, [0, 0]

    def __enter__(self) -> Progress:
        if self.path and os.path.exists(self.path):
            os.remove(self.path)  # a new run counts from zero
        if self.enabled:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def counts(self) -> tuple[int, int]:
        """Samples written and rejected so far."""
        if self.final is not None:
            return self.final
        if self.path is None:
            found = metrics_counts(self.result) if self.result is not None else None
            return found or (0, 0)
        if os.path.exists(self.path):
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
            complete = data[: data.rfind(b"\n") + 1]
            self._offset += len(complete)
            for line in complete.splitlines():
                written, rejected = line.split()
                self._counts[0] += int(written)
                self._counts[1] += int(rejected)
        return self._counts[0], self._counts[1]

    def _poll(self) -> None:
        started = time.time()
        columns = (SpinnerColumn(), TextColumn("[bold]build"), TextColumn("{task.fields[status]}"))
        with RichProgress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bar:
            task = bar.add_task("build", total=None, status="")
            while True:
                stopping = self._stop.wait(self.every)
                written, rejected = self.counts()
                rate = (written + rejected) / max(time.time() - started, 1e-6)
                status = f"written {written}  rejected {rejected}  {rate:,.0f} samples/s"
                bar.update(task, status=status)
                if stopping:
                    return


def summary_table(summary: dict[str, Any]) -> Table:
    """The table printed at the end of a build; says whether written + rejected == read."""
    counts = summary["counts"]
    table = Table(title="labelmill build", show_header=False)
    table.add_row("read", str(counts["read"]))
    table.add_row("written", str(counts["written"]))
    table.add_row("rejected", str(counts["rejected"]))
    for reason, n in counts["rejected_by_reason"].items():
        table.add_row(f"  {reason}", str(n))
    verdict = "yes" if counts["balanced"] else "NO"
    table.add_row("written + rejected == read", verdict)
    built = summary["shards_rebuilt"]
    table.add_row("shards", f"{len(summary['shards'])} tars ({built} shards built this run)")
    wall = summary["wall_time_s"]
    table.add_row("wall time", f"{wall:.1f} s ({counts['read'] / max(wall, 1e-6):,.0f} samples/s)")
    return table
