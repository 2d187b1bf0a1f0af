"""`labelmill audit`: a build folder in, an offline HTML report and its metrics.json out."""

from __future__ import annotations

from typing import Annotated

import typer

GOLD_HELP = (
    "Gold labels, CSV or JSONL: an `id` column (manifest id) or `key` column (shard key), then "
    "one column per label holding 1, 0 or blank (unknown), or a `labels` column listing the "
    "positive labels as a|b (JSONL: a list too; labels named elsewhere in the file are then 0)."
)


def audit(
    build_dir: Annotated[
        str, typer.Argument(help="A build folder (what `labelmill build` wrote).")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Report folder: index.html and metrics.json.")
    ],
    gold: Annotated[str | None, typer.Option(help=GOLD_HELP)] = None,
) -> None:
    """Audit the labels of a build folder and write an offline HTML report.

    Sections: provenance, label distribution, per-labeler agreement,
    report mining, harmonization, aggregation, gold metrics, label maps,
    suspect samples. Writes OUTPUT/index.html (one file, opens offline)
    and OUTPUT/metrics.json (every number of the page). Reads only
    BUILD_DIR, streaming its shards.
    """
    from labelmill.audit import audit as run_audit
    from labelmill.audit.gold import GoldError
    from labelmill.audit.read import BuildFormatError
    from labelmill.pipelines.shard_reader import UnsafeShardError

    try:
        metrics = run_audit(build_dir, output, gold)
    except (BuildFormatError, GoldError, UnsafeShardError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = metrics["summary"]
    lacking = [name for name, have in summary["sections"].items() if not have]
    typer.echo(
        f"audited {summary['samples']} samples from {len(summary['sources'])} labelers"
        + (f"; no data for: {', '.join(lacking)}" if lacking else "")
    )
    typer.echo(
        f"report: {output.rstrip('/')}/index.html  metrics: {output.rstrip('/')}/metrics.json"
    )


def register(app: typer.Typer) -> None:
    app.command()(audit)
