"""`labelmill inspect DIR|SHARD`: print the first samples of a build or of one shard."""

from __future__ import annotations

import json
from typing import Annotated, Any

import fsspec
import typer
from rich.console import Console
from rich.table import Table

from labelmill.fileio import join
from labelmill.pipelines.shard_reader import UnsafeShardError, iter_samples
from labelmill.schemas.sample import decode_sample_json


def shard_urls(target: str) -> list[str]:
    """The shards of a build folder in order, or the one shard named."""
    fs, path = fsspec.core.url_to_fs(target)
    if target.endswith(".tar"):
        return [target]
    protocol = target.split("://", 1)[0] + "://" if "://" in target else ""
    return [protocol + p for p in sorted(fs.glob(f"{join(path, 'shards')}/*.tar"))]


def describe_sample(key: str, members: dict[str, bytes]) -> Table:
    info: dict[str, Any] = decode_sample_json(members["json"])
    table = Table(title=f"{key}  (id {info.get('id')!r})", show_header=False, title_justify="left")
    image = info.get("image", {})
    table.add_row("members", ", ".join(f"{s} ({len(d):,} B)" for s, d in members.items()))
    table.add_row(
        "image",
        f"{image.get('width')}x{image.get('height')} {image.get('format')}"
        f" from {image.get('original_format')} {image.get('source')}",
    )
    report = members.get("txt", b"").decode("utf-8", "replace").strip()
    table.add_row("report", (report[:200] + " ...") if len(report) > 200 else report or "(none)")
    for record in info.get("records", []):
        labels = ", ".join(f"{k}={v}" for k, v in sorted(record.get("labels", {}).items()))
        table.add_row(record.get("source", "?"), labels or "(no labels)")
    if info.get("final"):
        final = info["final"]
        scores = final.get("scores", {})
        text = ", ".join(f"{k}={v} ({scores.get(k, 0):.2f})" for k, v in final["labels"].items())
        table.add_row("final", text or "(no labels)")
    if info.get("meta"):
        table.add_row("meta", json.dumps(info["meta"], ensure_ascii=False)[:200])
    return table


def inspect_command(
    target: Annotated[str, typer.Argument(help="A build folder or one shard (.tar).")],
    n: Annotated[int, typer.Option("--n", help="How many samples to print.")] = 5,
) -> None:
    """Print the first N samples: members, image, report, every labeler's labels, final."""
    console = Console()
    shown = 0
    try:
        for url in shard_urls(target):
            for key, members in iter_samples(url):
                if shown >= n:
                    return
                console.print(describe_sample(key, members))
                shown += 1
    except UnsafeShardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if shown == 0:
        typer.echo(f"no samples found in {target}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
