"""`labelmill build`: flags and a build.yaml in, shards and manifests out, a summary printed.

Unknown `--options` pass through to Beam, so the same command runs locally and on Dataflow.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace
from typing import Annotated

import typer

from labelmill.schemas.config import (
    BuildConfig,
    ConfigError,
    LabelerSpec,
    load_config,
    with_labeler,
)


def _labeler_flags(
    config: BuildConfig,
    image_model: str | None,
    image_options: dict,
    report_ontology: str | None,
    harmonize: str | None,
    llm: str | None,
    aggregate: str | None,
) -> BuildConfig:
    """Fold the labeler shortcuts of the command line into the config."""
    if report_ontology:
        config = with_labeler(config, LabelerSpec("reports", {"ontology": report_ontology}))
    if image_model:
        options = {
            "model": image_model,
            **{k: v for k, v in image_options.items() if v is not None},
        }
        config = with_labeler(config, LabelerSpec("image_model", options))
    if harmonize:
        config = replace(config, harmonize={"ontology": harmonize, "llm": llm or "none"})
    if aggregate:
        options = {**(config.aggregate or {}), "method": aggregate}
        target = harmonize or report_ontology  # final labels live on the build's ontology
        if target and "labels" not in options:
            options.setdefault("ontology", target)
        config = replace(config, aggregate=options)
    return config


def build(
    ctx: typer.Context,
    input: Annotated[
        str, typer.Option("--input", "-i", help="Manifest (CSV, JSONL, Parquet) or folder.")
    ] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder or URL.")] = "",
    config: Annotated[str | None, typer.Option(help="build.yaml with any option below.")] = None,
    shard_max_samples: Annotated[int | None, typer.Option(help="Samples per shard.")] = None,
    shard_max_bytes: Annotated[
        int | None, typer.Option(help="About this many source bytes per shard.")
    ] = None,
    max_image_side: Annotated[
        int | None, typer.Option(help="Downscale longer sides to this.")
    ] = None,
    image_format: Annotated[str | None, typer.Option(help="keep | png | jpeg.")] = None,
    name: Annotated[str | None, typer.Option(help="Shard file prefix: NAME-000000.tar.")] = None,
    report_ontology: Annotated[
        str | None, typer.Option(help="Mine reports with this ontology.")
    ] = None,
    image_model: Annotated[
        str | None, typer.Option(help="hf:ID|PATH, timm:NAME, imagenet-demo.")
    ] = None,
    topk: Annotated[int | None, typer.Option(help="Classes kept per map location.")] = None,
    map_size: Annotated[int | None, typer.Option(help="Resample label maps to SxS.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Keep global classes above this probability.")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Samples per labeler batch.")] = None,
    device: Annotated[
        str | None, typer.Option(help="auto | cpu | cuda, for the image model.")
    ] = None,
    harmonize: Annotated[
        str | None, typer.Option(help="Map manifest labels onto this ontology.")
    ] = None,
    llm: Annotated[str | None, typer.Option(help="Harmonizer LLM: none | local | URL.")] = None,
    aggregate: Annotated[
        str | None, typer.Option(help="Final labels: majority | dawid-skene.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace a build made with another config.")
    ] = False,
    allow_root: Annotated[
        list[str] | None,
        typer.Option(help="A folder outside the manifest's that image/report paths may use."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Build shards, manifest.parquet, rejects.parquet, index.json and run.json in OUTPUT.

    Extra options go to Beam, e.g. --direct_num_workers 2 --direct_running_mode multi_processing,
    or --runner DataflowRunner --project P --region R --temp_location gs://... (see README).
    """
    # Our progress bar is the one to watch; model libraries' loading bars would interleave.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("labelmill").setLevel(logging.WARNING)
    logging.getLogger("apache_beam").setLevel(logging.CRITICAL)  # failures end as one line below
    from labelmill.pipelines.build import run
    from labelmill.pipelines.cli_errors import one_line, show_traceback
    from labelmill.pipelines.orphans import mark_launcher
    from labelmill.pipelines.plan import ResumeError
    from labelmill.pipelines.preflight import preflight
    from labelmill.pipelines.progress import summary_table

    try:
        cfg = load_config(
            config,
            input=input or None,
            output=output or None,
            shard_max_samples=shard_max_samples,
            shard_max_bytes=shard_max_bytes,
            max_image_side=max_image_side,
            image_format=image_format,
            name=name,
            batch_size=batch_size,
            allow_roots=tuple(allow_root) if allow_root else None,
        )
        image_options = {
            "topk": topk,
            "map_size": map_size,
            "threshold": threshold,
            "device": device,
            "batch_size": batch_size,
        }
        cfg = _labeler_flags(
            cfg, image_model, image_options, report_ontology, harmonize, llm, aggregate
        )
        preflight(cfg)
        mark_launcher()
        summary = run(cfg, ctx.args, overwrite=overwrite, show_progress=not quiet)
    except (ConfigError, ResumeError, ValueError) as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(2) from exc
    except Exception as exc:  # a full disk, a worker's failure: one line, state stays resumable
        if show_traceback():
            raise
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(2) from exc
    from rich.console import Console

    console = Console()
    console.print(summary_table(summary))
    console.print(
        f"shards in {cfg.output.rstrip('/')}/shards; manifest, index and run.json beside them"
    )
    if not summary["counts"]["balanced"]:
        sys.exit(1)


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(build)
