"""`labelmill label-reports`: mine findings from report text into JSONL, Parquet or CSV.

    labelmill label-reports INPUT --ontology chestxray14|chexpert|PATH.yaml \\
        --output OUT.jsonl|OUT.parquet|OUT.csv [--uncertain keep|zeros|ones] [--workers N] \\
        [--language es]

INPUT is a table with a `text` (or `Reports`) column and an optional `id`, the CheXpert
labeler's one-column CSV without a header, or a folder of `.txt` files (id = file stem).
Reports are read, labelled and written in a stream of chunks, so memory does not grow with the
number of reports; with workers, a bounded window of chunks is in flight at a time.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Annotated, Any

import typer

CHUNK = 256  # reports per task sent to a worker process
WINDOW = 4  # chunks in flight per worker
UNCERTAIN_VALUES = {"keep": -1, "zeros": 0, "ones": 1}  # U-Ignore, U-Zeros, U-Ones


def _label_chunk(task: tuple[str, str, list[str | None], str | None]) -> list[dict[str, Any]]:
    """Worker entry point: label one chunk, uncertain (-1) values replaced by the policy."""
    from labelmill.labelers.reports.labeler import label_text

    ontology, uncertain, texts, language = task
    value = UNCERTAIN_VALUES[uncertain]
    results = []
    for text in texts:
        result = label_text(text, ontology, language=language)
        labels = result["labels"]
        result["labels"] = {k: value if v == -1 else v for k, v in labels.items()}
        results.append(result)
    return results


def _chunks(reports: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(reports)
    while chunk := list(islice(it, size)):
        yield chunk


def labelled(
    reports: Iterable[tuple[str, str | None]],
    ontology: str,
    uncertain: str,
    workers: int,
    language: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Records in input order: `{"id", "text", "labels", "evidence"}`."""
    def tasks(chunks: list[list[tuple[str, str | None]]]) -> list[Any]:
        return [(ontology, uncertain, [text for _, text in chunk], language) for chunk in chunks]

    def records(chunk: list[tuple[str, str | None]], results: list[dict]) -> Iterator[dict]:
        for (report_id, text), result in zip(chunk, results, strict=True):
            yield {"id": report_id, "text": text, **result}

    if workers == 1:
        for chunk in _chunks(reports, CHUNK):
            yield from records(chunk, _label_chunk(tasks([chunk])[0]))
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for window in _chunks(_chunks(reports, CHUNK), WINDOW * workers):
            for chunk, results in zip(window, pool.imap(_label_chunk, tasks(window)), strict=True):
                yield from records(chunk, results)


def label_reports(
    source: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="CSV/JSONL/Parquet with text (or Reports) and optional id; a headerless "
            "one-column CSV; or a folder of .txt files.",
        ),
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="OUT.jsonl, OUT.parquet or OUT.csv.")
    ],
    ontology: Annotated[
        str, typer.Option(help="chestxray14, chexpert, or the path of an ontology YAML.")
    ] = "chestxray14",
    uncertain: Annotated[
        str, typer.Option(help="Uncertain findings: keep (-1), zeros (0) or ones (1).")
    ] = "keep",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (1 = in-process).")] = 1,
    language: Annotated[
        str | None, typer.Option(help="Report language (en, es); default: the ontology's own.")
    ] = None,
) -> None:
    """Label radiology reports with an ontology's findings: 1, 0, -1 or blank, with evidence."""
    from labelmill.labelers.reports.labeler import get_engine
    from labelmill.labelers.reports.report_io import RecordWriter, ReportInputError, iter_reports
    from labelmill.pipelines.build_report import plural
    from labelmill.schemas.ontology import OntologyError

    started = time.perf_counter()
    try:
        if uncertain not in UNCERTAIN_VALUES:
            valid = ", ".join(UNCERTAIN_VALUES)
            raise ReportInputError(f"--uncertain: expected one of {valid}, got {uncertain!r}")
        labels = get_engine(ontology, None, language).ontology.labels
        reports = iter_reports(source)
        with RecordWriter(output, labels) as writer:
            for record in labelled(reports, ontology, uncertain, workers, language):
                writer.write(record)
    except (OntologyError, ReportInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - started
    done = plural(writer.count, "report")
    typer.echo(f"labelled {done} in {elapsed:.2f} s -> {output}", err=True)


def register(app: typer.Typer) -> None:
    """Add `label-reports` to the labelmill command line."""
    app.command("label-reports")(label_reports)
