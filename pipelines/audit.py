"""`labelmill audit`: a build folder in, an offline HTML report, metrics.json and suspects.csv
out."""

from __future__ import annotations

from typing import Annotated, Any

import typer

GOLD_HELP = (
    "Gold labels, CSV or JSONL: an `id` column (manifest id) or `key` column (shard key), then "
    "one column per label holding 1, 0 or blank (unknown), or a `labels` column listing the "
    "positive labels as a|b (JSONL: a list too; labels named elsewhere in the file are then 0). "
    "Column names go through the build's harmonizer (`effusion` scores `Effusion`)."
)


def safe(text: Any) -> str:
    """Untrusted text (gold column names) for a terminal: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def echo_gold_mapping(mapping: dict[str, Any]) -> None:
    """The gold columns' mapping, one line each, and what matched nothing."""
    where = f"onto {mapping['ontology']}" if not mapping["note"] else f"({mapping['note']})"
    typer.echo(f"gold columns mapped {safe(where)}:")
    for row in mapping["columns"]:
        label = row["label"] or "unmatched"
        how = row["method"] + (f" {row['score']:.2f}" if isinstance(row["score"], float) else "")
        reason = f" ({safe(row['reason'])})" if row["reason"] else ""
        typer.echo(f"  {safe(row['column'])!s:28} -> {safe(label)!s:22} {how}{reason}")
    if mapping["unmatched"]:
        typer.echo(f"  unmatched: {', '.join(safe(x) for x in mapping['unmatched'])}")


def audit(
    build_dir: Annotated[
        str, typer.Argument(help="A build folder (what `labelmill build` wrote).")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Report folder: index.html and metrics.json.")
    ],
    gold: Annotated[str | None, typer.Option(help=GOLD_HELP)] = None,
    slice_by: Annotated[
        list[str] | None,
        typer.Option("--slice-by", help="A manifest metadata column to slice by (repeatable)."),
    ] = None,
    min_support: Annotated[
        int, typer.Option(min=1, help="Rates on fewer samples are greyed and flagged.")
    ] = 20,
    suspects: Annotated[
        int, typer.Option(min=1, help="How many suspect samples suspects.csv lists.")
    ] = 200,
) -> None:
    """Audit the labels of a build folder and write an offline HTML report.

    Sections: provenance, label distribution, per-labeler agreement and
    accuracy (label model, gold), report mining, harmonization,
    aggregation, gold metrics, slices, label maps, suspect samples.
    Writes OUTPUT/index.html (one file, opens offline), OUTPUT/metrics.json
    (every number of the page) and OUTPUT/suspects.csv. Reads only
    BUILD_DIR, streaming its shards.
    """
    from labelmill.audit import AuditConfig
    from labelmill.audit import audit as run_audit
    from labelmill.audit.gold import GoldError
    from labelmill.audit.read import BuildFormatError
    from labelmill.pipelines.shard_reader import UnsafeShardError

    config = AuditConfig(min_support=min_support, slice_by=tuple(slice_by or ()), suspects=suspects)
    try:
        metrics = run_audit(build_dir, output, gold, config)
    except (BuildFormatError, GoldError, UnsafeShardError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = metrics["summary"]
    lacking = [name for name, have in summary["sections"].items() if not have]
    typer.echo(
        f"audited {summary['samples']} samples from {len(summary['sources'])} labelers"
        + (f"; no data for: {', '.join(lacking)}" if lacking else "")
    )
    if metrics["gold"]:
        echo_gold_mapping(metrics["gold"]["mapping"])
    folder = output.rstrip("/")
    typer.echo(f"report: {folder}/index.html  metrics: {folder}/metrics.json")


def register(app: typer.Typer) -> None:
    app.command()(audit)
