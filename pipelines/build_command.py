"""`labelmill build`: flags and a build.yaml in, shards and manifests out, a summary printed.

Extra `--options` go to Beam, so the same command runs locally and on Dataflow; only options
that Beam itself defines are accepted (a typo is an error with a suggestion, never ignored).
Every option is checked before planning writes anything, so a failed start leaves nothing
that blocks the corrected command.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import replace
from typing import Annotated, Any

import typer

from labelmill.schemas.config import (
    BuildConfig,
    ConfigError,
    LabelerSpec,
    load_config,
    with_labeler,
)

COLUMN_FLAGS = ("id", "image", "report", "labels")
RUN_FLAGS = ("overwrite", "quiet", "verbose", "verify_resume")  # how to run, not what to build
SEPARATOR_NAMES = {"\\t": "\t", "tab": "\t", "semicolon": ";", "comma": ","}  # --sep '\t'


def _labeler_flags(
    config: BuildConfig,
    image_model: str | None,
    image_options: dict,
    report_ontology: str | None,
    harmonize: str | None,
    llm: str | None,
    aggregate: str | None,
    uncertain: str | None = None,
) -> BuildConfig:
    """Fold the labeler shortcuts of the command line into the config."""
    from labelmill.labelers.aggregate.votes import CHEXPERT_POLICIES

    if report_ontology:
        config = with_labeler(config, LabelerSpec("reports", {"ontology": report_ontology}))
    if image_options.get("ontology") and not image_model:
        raise ConfigError("--image-ontology maps an image model's classes: add --image-model")
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
        # Final labels live on the build's ontology.
        target = (
            harmonize or report_ontology or (image_options.get("ontology") if image_model else None)
        )
        if target and "labels" not in options:
            options.setdefault("ontology", target)
        config = replace(config, aggregate=options)
    if uncertain:
        if uncertain not in CHEXPERT_POLICIES:
            raise ConfigError(f"--uncertain: expected one of keep, zeros, ones, got {uncertain!r}")
        if not config.aggregate:
            raise ConfigError("--uncertain sets the final labels' policy: add --aggregate")
        policy = CHEXPERT_POLICIES[uncertain]
        config = replace(config, aggregate={**config.aggregate, "uncertain": policy})
    return config


def _map_size(value: str | None) -> int | str | None:
    """`--map-size 15` or `--map-size native` (the model's own grid)."""
    if value is None or value == "native":
        return value
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"--map-size: expected a positive integer or native, got {value!r}")
    return int(value)


def _quiet_logs(verbose: bool) -> None:
    """Beam's INFO lines and optional-dependency warnings (`apitools not found`) only with
    --verbose; labelmill's own warnings always."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    level = logging.INFO if verbose else logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("labelmill").setLevel(logging.INFO if verbose else logging.WARNING)
    for name in ("apache_beam", "absl"):  # a failure ends as one line (see build), not a log
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL)


def _own_flags(ctx: typer.Context) -> list[str]:
    return [opt for param in ctx.command.params for opt in param.opts if opt.startswith("--")]


def _runner(beam_args: list[str]) -> str | None:
    for i, arg in enumerate(beam_args):
        if arg.startswith("--runner="):
            return arg.split("=", 1)[1]
        if arg == "--runner" and i + 1 < len(beam_args):
            return beam_args[i + 1]
    return None


def _start(ctx: typer.Context, flags: dict[str, Any]) -> BuildConfig:
    """Flags and build.yaml into a checked config; raises before anything is written."""
    from labelmill.pipelines.beam_flags import check_beam_args
    from labelmill.pipelines.preflight import preflight
    from labelmill.pipelines.site_checks import check_site

    check_beam_args(ctx.args, _own_flags(ctx))
    columns = {k: v for k in COLUMN_FLAGS if (v := flags.pop(f"{k}_col"))}
    image_options = {k: flags.pop(k) for k in ("topk", "threshold", "device")}
    image_options["map_size"] = _map_size(flags.pop("map_size"))
    image_options["batch_size"] = flags["batch_size"]
    image_options["ontology"] = flags.pop("image_ontology")
    shortcuts = {
        k: flags.pop(k)
        for k in ("image_model", "report_ontology", "harmonize", "llm", "aggregate", "uncertain")
    }
    config_path = flags.pop("config")
    cfg = load_config(config_path, **flags)
    if columns:
        cfg = replace(cfg, columns={**cfg.columns, **columns})
    cfg = _labeler_flags(
        cfg,
        shortcuts["image_model"],
        image_options,
        shortcuts["report_ontology"],
        shortcuts["harmonize"],
        shortcuts["llm"],
        shortcuts["aggregate"],
        shortcuts["uncertain"],
    )
    preflight(cfg, _runner(ctx.args))
    check_site(cfg)
    return cfg


def build(
    ctx: typer.Context,
    input: Annotated[
        str, typer.Option("--input", "-i", help="Manifest (CSV, JSONL, Parquet) or folder.")
    ] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder or URL.")] = "",
    config: Annotated[
        str | None,
        typer.Option(
            help="build.yaml with any option below (paths in it are relative to its folder)."
        ),
    ] = None,
    shard_max_samples: Annotated[
        int | None, typer.Option(min=1, help="Samples per shard (default 8, 16, ... up to 1000).")
    ] = None,
    shard_max_bytes: Annotated[
        int | None, typer.Option(min=1, help="Start a shard's next tar past this many bytes.")
    ] = None,
    max_image_side: Annotated[
        int | None, typer.Option(min=8, help="Downscale longer sides to this.")
    ] = None,
    image_format: Annotated[str | None, typer.Option(help="keep | png | jpeg.")] = None,
    name: Annotated[str | None, typer.Option(help="Shard file prefix: NAME-000000.tar.")] = None,
    id_col: Annotated[str | None, typer.Option(help="Manifest column with the ids.")] = None,
    image_col: Annotated[str | None, typer.Option(help="Column with the image paths.")] = None,
    report_col: Annotated[str | None, typer.Option(help="Column with the report text.")] = None,
    labels_col: Annotated[str | None, typer.Option(help="Column with source labels.")] = None,
    sep: Annotated[
        str | None,
        typer.Option(help="CSV separator: , ; or tab (also '\\t'); default: detected."),
    ] = None,
    report_ontology: Annotated[
        str | None, typer.Option(help="Mine reports with this ontology.")
    ] = None,
    image_model: Annotated[
        str | None, typer.Option(help="hf:ID|PATH, timm:NAME@W, arch:NAME@W, imagenet-demo.")
    ] = None,
    topk: Annotated[int | None, typer.Option(min=1, help="Classes kept per map location.")] = None,
    map_size: Annotated[
        str | None, typer.Option(help="Label maps resampled to SxS (default 15), or native.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Keep global classes above this probability."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Samples per labeler batch.")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="auto | cpu | cuda, for the image model.")
    ] = None,
    image_ontology: Annotated[
        str | None,
        typer.Option(help="Map the image model's class names onto this ontology (harmonizer)."),
    ] = None,
    harmonize: Annotated[
        str | None, typer.Option(help="Map manifest labels onto this ontology.")
    ] = None,
    llm: Annotated[str | None, typer.Option(help="Harmonizer LLM: none | local | URL.")] = None,
    aggregate: Annotated[
        str | None, typer.Option(help="Final labels: majority | dawid-skene.")
    ] = None,
    uncertain: Annotated[
        str | None,
        typer.Option(help="Uncertain votes in the final labels: keep (ignore) | zeros | ones."),
    ] = None,
    allow_root: Annotated[
        list[str] | None,
        typer.Option(help="A folder outside the manifest's that image/report paths may use."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace a build made with another config.")
    ] = False,
    verify_resume: Annotated[
        bool, typer.Option(help="Re-hash kept shards on a resume instead of checking sizes.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    verbose: Annotated[bool, typer.Option(help="Show Beam's and the labelers' logs.")] = False,
) -> None:
    """Build shards, manifest/ and rejects/ parts, index.json and run.json in OUTPUT.

    Other options must be Beam's: --direct_num_workers 2 (processes: add
    --direct_running_mode multi_processing), --runner DataflowRunner, --project P, ...
    """
    from labelmill.pipelines.beam_flags import FlagError
    from labelmill.pipelines.build import BuildNotFinished, DryRun
    from labelmill.pipelines.cli import STARTED
    from labelmill.pipelines.cli_errors import one_line, show_traceback
    from labelmill.pipelines.orphans import mark_launcher
    from labelmill.pipelines.preflight import PreflightError

    _quiet_logs(verbose)
    flags = {k: v for k, v in ctx.params.items() if k not in RUN_FLAGS}
    flags.update(input=input or None, output=output or None, sep=SEPARATOR_NAMES.get(sep, sep))
    flags["allow_roots"] = tuple(flags.pop("allow_root") or ()) or None

    try:
        cfg = _start(ctx, flags)
        mark_launcher()
        summary = _run(cfg, ctx.args, overwrite, quiet, verify_resume)
    except DryRun as exc:  # asked for: what the job would run, and no outputs claimed
        typer.echo(exc.description)
        typer.echo(f"not built: {exc}", err=True)
        raise typer.Exit(0) from exc
    except BuildNotFinished as exc:
        typer.echo(f"not built: {exc}", err=True)
        raise typer.Exit(3) from exc
    except (ConfigError, FlagError, PreflightError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ImportError:  # a missing optional package: cli.main names the extra to install
        raise
    except Exception as exc:  # a full disk, a worker's failure: one line, state stays resumable
        if show_traceback():
            raise
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(2) from exc
    _print_summary(summary, time.time() - STARTED)
    if not summary["counts"]["balanced"]:
        sys.exit(1)


def _run(
    cfg: BuildConfig, beam_args: list[str], overwrite: bool, quiet: bool, verify: bool = False
) -> dict:
    from labelmill.pipelines.build import run
    from labelmill.pipelines.lock import OutputLockedError
    from labelmill.pipelines.plan import ResumeError

    try:
        return run(
            cfg, beam_args, overwrite=overwrite, show_progress=not quiet, verify_resume=verify
        )
    except (ResumeError, OutputLockedError, ValueError, FileNotFoundError) as exc:
        raise ConfigError(str(exc)) from exc


def _print_summary(summary: dict[str, Any], wall: float) -> None:
    """The table (wall time since the process started) and the closing lines."""
    from rich.console import Console

    from labelmill.pipelines.build_report import closing_lines
    from labelmill.pipelines.progress import summary_table

    Console().print(summary_table({**summary, "wall_time_s": wall}))
    for line in closing_lines(summary):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(build)
