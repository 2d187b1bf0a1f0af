"""Progress for long builds: shards done, samples written and rejected, samples/s.

Workers may be other processes (multi_processing) or other machines, so progress is read from
what they leave behind: the shard markers in `_work/`, polled by a background thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import fsspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from labelmill.fileio import read_json
from labelmill.pipelines.plan import Plan


class Progress:
    """Context manager that shows a live bar while the pipeline runs."""

    def __init__(self, plan: Plan, todo: Sequence[int], enabled: bool = True, every: float = 0.5):
        self.plan, self.todo, self.enabled, self.every = plan, list(todo), enabled, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _poll(self) -> None:
        fs, _ = fsspec.core.url_to_fs(self.plan.config.output)
        seen: dict[int, tuple[int, int]] = {}
        started = time.time()
        columns = (
            TextColumn("[bold]shards"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        )
        with RichProgress(*columns, console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task("build", total=len(self.todo), status="")
            while True:
                stopping = self._stop.wait(self.every)
                for index in self.todo:
                    url = self.plan.marker_url(index)
                    if index not in seen and fs.exists(url):
                        marker = read_json(url)
                        seen[index] = (marker["nsamples"], len(marker["rejects"]))
                written = sum(w for w, _ in seen.values())
                rejected = sum(r for _, r in seen.values())
                rate = (written + rejected) / max(time.time() - started, 1e-6)
                status = f"written {written}  rejected {rejected}  {rate:,.0f} samples/s"
                bar.update(task, completed=len(seen), status=status)
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
    table.add_row("shards", f"{len(summary['shards'])} ({built} built this run)")
    wall = summary["wall_time_s"]
    table.add_row("wall time", f"{wall:.1f} s ({counts['read'] / max(wall, 1e-6):,.0f} samples/s)")
    return table
