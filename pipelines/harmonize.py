"""`labelmill harmonize`: map raw label strings onto an ontology and write the mapping as CSV.

    labelmill harmonize labels.txt --ontology chestxray14 --output mapping.csv [--llm local]
    labelmill harmonize manifest.csv --column labels --ontology chexpert --output mapping.csv

One row per distinct raw string (`raw,label,method,score`, `label` empty when unmapped); the
unmapped strings are also listed on stderr, so nothing disappears without a trace.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer


def read_strings(path: Path, column: str | None) -> list[str]:
    """Raw strings in input order: one per line of a text file, or the labels of a manifest
    column (a list, a JSON list or `a|b|c` per row, as in the manifest's `labels`)."""
    if column is None:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        return [line.strip() for line in lines if line.strip()]
    import pandas as pd

    from labelmill.manifests.read import parse_labels

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(path, columns=[column])
    elif suffix in (".jsonl", ".ndjson", ".json"):
        frame = pd.read_json(path, lines=True, dtype=False)
    else:
        sep = "\t" if suffix == ".tsv" else ","
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    if column not in frame.columns:
        raise ValueError(f"{path} has no column {column!r} (columns: {', '.join(frame.columns)})")
    return [label for value in frame[column] for label in parse_labels(value or None)]


def harmonize(
    input: Annotated[
        Path, typer.Argument(help="Text file, one raw label per line, or a manifest.")
    ],
    ontology: Annotated[str, typer.Option(help="chestxray14 | chexpert | PATH.yaml")],
    output: Annotated[Path, typer.Option(help="Mapping CSV: raw,label,method,score.")],
    llm: Annotated[str, typer.Option(help="none | local | URL of an OpenAI-compatible server.")] = (
        "none"
    ),
    column: Annotated[str | None, typer.Option(help="Manifest column with the raw labels.")] = None,
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
    from labelmill.fileio import default_cache_dir
    from labelmill.labelers.harmonize import Harmonizer
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
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["raw", "label", "method", "score"])
        for d in decisions.values():
            writer.writerow([d.raw, d.label or "", d.method, f"{d.score:.4f}"])
    if details is not None:
        lines = (json.dumps(d.to_json(), ensure_ascii=False) for d in decisions.values())
        details.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    methods = Counter(d.method for d in decisions.values())
    summary = ", ".join(f"{m} {methods[m]}" for m in ("lexical", "embedding", "llm", "unmapped"))
    typer.echo(f"{len(decisions)} distinct strings -> {output}: {summary}", err=True)
    for d in decisions.values():
        if d.label is None:
            typer.echo(f"  unmapped: {d.raw!r} ({d.reason})", err=True)
    sys.stderr.flush()


def register(app: typer.Typer) -> None:
    app.command("harmonize")(harmonize)
