"""`labelmill harmonize`: map raw label strings onto an ontology and write the mapping as CSV.

    labelmill harmonize labels.txt --ontology chestxray14 --output mapping.csv [--llm local]
    labelmill harmonize manifest.csv [--column findings] --ontology chexpert --output mapping.csv

One row per distinct raw string (`raw,label,method,score`; `label` is `A|B` for a string that
means several labels and empty when unmapped); the unmapped strings are also listed on stderr
with their reason, so nothing disappears without a trace.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer


def read_strings(path: Path, column: str | None) -> list[str]:
    """Raw strings in input order. A table (CSV, TSV, JSONL, Parquet) gives the labels of
    `column`, or of its `labels` column (a list, a JSON list or `a|b|c` per row, as in a
    manifest); any other file is one string per line."""
    from labelmill.manifests.read import parse_labels
    from labelmill.manifests.tables import FORMATS, BadRow, TableError, iter_table

    if path.suffix.lower().lstrip(".") not in FORMATS:
        if column is not None:
            raise ValueError(f"{path}: --column needs a table (.csv, .tsv, .jsonl, .parquet)")
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text (byte offset {exc.start})") from exc
        return [line.strip() for line in lines if line.strip()]
    name = column or "labels"
    strings: list[str] = []
    try:
        for number, record in iter_table(str(path), (name,)):
            if isinstance(record, BadRow):
                raise ValueError(f"{path}: row {number}: {record}")
            strings.extend(parse_labels(record.get(name)))
    except TableError as exc:
        if f"column {name!r} is missing" not in str(exc):
            raise ValueError(str(exc)) from exc
        columns = str(exc).rsplit("(columns: ", 1)[-1].rstrip(")")
        hint = "" if column else "; pass --column NAME"
        raise ValueError(f"{path} has no column {name!r}{hint} (columns: {columns})") from exc
    return strings


def harmonize(
    input: Annotated[
        Path,
        typer.Argument(
            help="Text file (one raw label per line) or a table (CSV/TSV/JSONL/Parquet)."
        ),
    ],
    ontology: Annotated[str, typer.Option(help="chestxray14 | chexpert | padchest | PATH.yaml")],
    output: Annotated[Path, typer.Option(help="Mapping CSV: raw,label,method,score.")],
    llm: Annotated[str, typer.Option(help="none | local | URL of an OpenAI-compatible server.")] = (
        "none"
    ),
    column: Annotated[
        str | None, typer.Option(help="Table column with the raw labels (default: labels).")
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Decision cache; default $LABELMILL_CACHE or ~/.cache/labelmill."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
    ] = False,
    details: Annotated[
        Path | None, typer.Option(help="Also write every decision with its reason as JSONL.")
    ] = None,
) -> None:
    """Map raw label strings onto an ontology: lexical, embeddings, then the optional LLM."""
    from labelmill.fileio import default_cache_dir, write_bytes
    from labelmill.labelers.harmonize import METHODS, Harmonizer
    from labelmill.schemas.ontology import OntologyError

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        if not input.is_file():
            raise ValueError(f"{input}: no such file")
        strings = read_strings(input, column)
        cache = None if no_cache else cache_dir or default_cache_dir("harmonize")
        harmonizer = Harmonizer(ontology, llm=llm, cache_dir=cache)
    except (OntologyError, ValueError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    decisions = harmonizer.map(strings)
    output.parent.mkdir(parents=True, exist_ok=True)
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["raw", "label", "method", "score"])
    for d in decisions.values():
        writer.writerow([d.raw, d.label or "", d.method, f"{d.score:.4f}"])
    write_bytes(str(output), table.getvalue().encode("utf-8"))
    if details is not None:
        lines = (json.dumps(d.to_json(), ensure_ascii=False) for d in decisions.values())
        write_bytes(str(details), "".join(line + "\n" for line in lines).encode("utf-8"))
    methods = Counter(d.method for d in decisions.values())
    summary = ", ".join(f"{m} {methods[m]}" for m in METHODS if methods[m] or m == "unmapped")
    typer.echo(f"{len(decisions)} distinct strings -> {output}: {summary}", err=True)
    for d in decisions.values():
        if d.label is None:
            typer.echo(f"  unmapped: {_safe(d.raw)} ({_safe(d.reason)[1:-1]})", err=True)
    sys.stderr.flush()


def _safe(text: str) -> str:
    """A label string as a quoted, escaped literal: escapes never reach the terminal."""
    return ascii(text)


def register(app: typer.Typer) -> None:
    app.command("harmonize")(harmonize)
