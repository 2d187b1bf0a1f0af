"""`labelmill inspect DIR|SHARD`: print the first samples of a build or of one shard.

Everything printed from a shard is data, not markup: report text and labels come from
untrusted inputs, so they are shown as plain rich `Text` (a `[/]` or `[link=...]` is printed as
typed) with every control character made visible (`\\x1b` instead of an ANSI or OSC escape that
would retitle the terminal, clear the screen or plant a hyperlink).
"""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Annotated, Any

import fsspec
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labelmill.fileio import join
from labelmill.pipelines.shard_reader import UnsafeShardError, decode_json, iter_samples

# C0 and C1 controls (but tab and newline), DEL, and the bidirectional overrides that reorder
# what a terminal shows.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: Any, limit: int = 200) -> Text:
    """`value` as inert terminal text, cut to `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + " ..."
    return Text(_CONTROL.sub(lambda m: ascii(m.group())[1:-1], text))


def shard_urls(target: str) -> list[str]:
    """The shards of a build folder in order, or the one shard named."""
    fs, path = fsspec.core.url_to_fs(target)
    if target.endswith(".tar"):
        return [target]
    protocol = target.split("://", 1)[0] + "://" if "://" in target else ""
    return [protocol + p for p in sorted(fs.glob(f"{join(path, 'shards')}/*.tar"))]


def describe_sample(key: str, members: dict[str, bytes]) -> Table:
    """One sample as a table; raises ValueError when its JSON member is not a sample document."""
    info = decode_json(members["json"]) if "json" in members else None
    if not isinstance(info, dict):
        raise ValueError(f"sample {key!r} has no JSON object member")
    image = info.get("image") if isinstance(info.get("image"), dict) else {}
    table = Table(
        title=plain(f"{key}  (id {info.get('id')!r})"), show_header=False, title_justify="left"
    )
    table.add_row("members", plain(", ".join(f"{s} ({len(d):,} B)" for s, d in members.items())))
    table.add_row(
        "image",
        plain(
            f"{image.get('width')}x{image.get('height')} {image.get('format')}"
            f" from {image.get('original_format')} {image.get('source')}"
        ),
    )
    report = members.get("txt", b"").decode("utf-8", "replace").strip()
    table.add_row("report", plain(report or "(none)"))
    for record in _dicts(info.get("records")):
        labels = ", ".join(f"{k}={v}" for k, v in sorted(_dict(record.get("labels")).items()))
        table.add_row(plain(record.get("source", "?"), 60), plain(labels or "(no labels)"))
    final = _dict(info.get("final"))
    if final:
        scores = _dict(final.get("scores"))
        text = ", ".join(
            f"{k}={v} ({_number(scores.get(k))})" for k, v in _dict(final.get("labels")).items()
        )
        table.add_row("final", plain(text or "(no labels)"))
    if info.get("meta"):
        table.add_row("meta", plain(json.dumps(info["meta"], ensure_ascii=False)))
    return table


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "?"


def inspect_command(
    target: Annotated[str, typer.Argument(help="A build folder or one shard (.tar).")],
    n: Annotated[int, typer.Option("--n", help="How many samples to print.")] = 5,
) -> None:
    """Print the first N samples: members, image, report, every labeler's labels, final."""
    console = Console(highlight=False)
    shown, broken = 0, 0
    samples = (
        (url, key, members) for url in shard_urls(target) for key, members in iter_samples(url)
    )
    try:
        for url, key, members in islice(samples, max(n, 0)):
            try:
                console.print(describe_sample(key, members))
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                typer.echo(f"{url}: {plain(key, 80)}: {plain(exc)}", err=True)
                broken += 1
            shown += 1
    except UnsafeShardError as exc:
        typer.echo(f"error: {plain(exc, 400)}", err=True)
        raise typer.Exit(2) from exc
    if shown == 0:
        typer.echo(f"no samples found in {target}", err=True)
        raise typer.Exit(1)
    if broken:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
