"""The `labelmill` command line: one Typer app, one module per command.

Each command module exposes `register(app)`; this file only lists them, so adding a command is one
line here. Heavy imports (Beam, torch, spaCy) happen inside the commands, keeping `--help` fast.
"""

from __future__ import annotations

import importlib

import typer

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
)


@app.callback()
def _root() -> None:
    """Build weakly labeled WebDataset shards from images and reports, and audit their labels."""


for _module in COMMANDS:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Console-script entry point. Whatever a command did not handle still ends as one line
    naming the problem (LABELMILL_TRACEBACK=1 shows the traceback)."""
    from labelmill.pipelines.cli_errors import one_line, show_traceback

    try:
        app()
    except Exception as exc:
        if show_traceback():
            raise
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise SystemExit(2) from None
