"""Write the audit of a build folder: metrics.json, index.html drawn from the same dict, and
suspects.csv (the most suspect votes, for relabeling)."""

from __future__ import annotations

import csv
import io
from typing import Any

from labelmill.audit.gold import read_gold
from labelmill.audit.metrics import AuditConfig, compute
from labelmill.audit.page import render
from labelmill.audit.plots import figures
from labelmill.fileio import join, write_bytes, write_json

CSV_COLUMNS = (
    "rank",
    "key",
    "id",
    "suspect_score",
    "label",
    "final_probability",
    "source",
    "vote",
    "self_confidence",
    "confident_issue",
    "evidence",
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value


def suspects_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: cell(row[k]) for k in CSV_COLUMNS} for row in rows)
    return out.getvalue().encode("utf-8")


def audit(
    build_dir: str, output: str, gold: str | None = None, config: AuditConfig | None = None
) -> dict[str, Any]:
    """Audit `build_dir` into `output`; returns the metrics (also in output/metrics.json)."""
    metrics, media = compute(build_dir, read_gold(gold) if gold else None, config)
    page = render(metrics, figures(metrics, media))
    write_json(join(output, "metrics.json"), metrics)
    if media.suspect_rows:
        write_bytes(join(output, "suspects.csv"), suspects_csv(media.suspect_rows))
    write_bytes(join(output, "index.html"), page.encode("utf-8"))
    return metrics
