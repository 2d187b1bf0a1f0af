"""The `labelmill` command line: one Typer app, one module per command.

Each command module exposes `register(app)`; this file only lists them, so adding a command is one
line here. Heavy imports (Beam, torch, spaCy) happen inside the commands, keeping `--help` fast.
"""

from __future__ import annotations

import importlib
import sys
import time
from importlib import metadata
from typing import Annotated

import typer

from labelmill.extras import MissingExtraError, as_missing_extra

STARTED = time.time()  # the summary's wall time counts from here, imports and planning included

COMMANDS = [
    "labelmill.pipelines.build_command",
    "labelmill.pipelines.harmonize",
    "labelmill.pipelines.inspect",
    "labelmill.pipelines.verify",
    "labelmill.pipelines.export_relabel",
    "labelmill.pipelines.label_reports",
    "labelmill.pipelines.audit",
]

app = typer.Typer(
    name="labelmill",
    help="Build weakly labeled WebDataset shards from images and reports, and audit their labels.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"labelmill {metadata.version('labelmill')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Build weakly labeled WebDataset shards from images and reports, and audit their labels."""


for _module in COMMANDS:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Console-script entry point. An optional package that a command needs and that is not
    installed ends the command with one line naming the extra to install; anything else a
    command did not handle ends as one line too (LABELMILL_TRACEBACK=1 shows the traceback)."""
    from labelmill.pipelines.cli_errors import one_line, show_traceback

    try:
        app()
    except ImportError as exc:
        error = as_missing_extra(exc, f"labelmill {' '.join(sys.argv[1:2])}".strip())
        if not isinstance(error, MissingExtraError) and show_traceback():
            raise
        message = error if isinstance(error, MissingExtraError) else one_line(exc)
        typer.echo(f"error: {message}", err=True)
        raise SystemExit(2) from exc
    except Exception as exc:
        if show_traceback():
            raise
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise SystemExit(2) from None
