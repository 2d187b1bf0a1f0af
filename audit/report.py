"""Write the audit of a build folder: metrics.json, then index.html drawn from the same dict."""

from __future__ import annotations

from typing import Any

from labelmill.audit.gold import read_gold
from labelmill.audit.metrics import compute
from labelmill.audit.page import render
from labelmill.audit.plots import figures
from labelmill.fileio import join, write_bytes, write_json


def audit(build_dir: str, output: str, gold: str | None = None) -> dict[str, Any]:
    """Audit `build_dir` into `output`; returns the metrics (also in output/metrics.json)."""
    metrics, gallery = compute(build_dir, read_gold(gold) if gold else None)
    page = render(metrics, figures(metrics, gallery))
    write_json(join(output, "metrics.json"), metrics)
    write_bytes(join(output, "index.html"), page.encode("utf-8"))
    return metrics
