"""`labelmill label-reports`: mine findings from report text into JSONL or Parquet, on its own.

    labelmill label-reports INPUT --ontology chestxray14|chexpert|PATH.yaml \\
        --output OUT.jsonl|OUT.parquet [--workers N] [--language es]

INPUT is a CSV, JSONL or Parquet file with columns `id` and `text`, or a folder of `.txt` files
(id = file stem). One record per report, in input order, with every label of the ontology.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer


def label_reports(
    source: Annotated[
        str,
        typer.Argument(metavar="INPUT", help="CSV, JSONL or Parquet with id,text; or a folder."),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="OUT.jsonl or OUT.parquet.")],
    ontology: Annotated[
        str, typer.Option(help="chestxray14, chexpert, or the path of an ontology YAML.")
    ] = "chestxray14",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (1 = in-process).")] = 1,
    language: Annotated[
        str | None, typer.Option(help="Report language (en, es); default: the ontology's own.")
    ] = None,
) -> None:
    """Label radiology reports with an ontology's findings: 1, 0, -1 or null, with evidence."""
    from labelmill.labelers.reports.labeler import get_engine, label_texts
    from labelmill.labelers.reports.report_io import (
        ReportInputError,
        check_output,
        read_reports,
        write_records,
    )
    from labelmill.schemas.ontology import OntologyError

    try:
        check_output(output)
        labels = get_engine(ontology, None, language).ontology.labels
        reports = read_reports(source)
    except (OntologyError, ReportInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    started = time.perf_counter()
    results = label_texts([text for _, text in reports], ontology, workers, language=language)
    records = [
        {"id": report_id, **result} for (report_id, _), result in zip(reports, results, strict=True)
    ]
    write_records(output, records, labels)
    elapsed = time.perf_counter() - started
    typer.echo(f"labelled {len(records)} reports in {elapsed:.2f} s -> {output}", err=True)


def register(app: typer.Typer) -> None:
    """Add `label-reports` to the labelmill command line."""
    app.command("label-reports")(label_reports)
