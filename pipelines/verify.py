"""`labelmill verify DIR`: re-read every shard and check it against what the build recorded.

Checks sizes and sha256 against run.json, the wids index against the files, that every manifest
row is in its shard with the same members and sizes, that every shard member is in the manifest,
that members decode (images, JSON, text, npy without pickle), and that the counts balance.
Lists every problem it finds, not just the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import fsspec
import typer

from labelmill.fileio import file_digest, join, read_json
from labelmill.manifests.built import read_manifest
from labelmill.pipelines.shard_reader import UnsafeShardError, decode_member, iter_samples


def _manifest_by_shard(output: str) -> dict[str, dict[str, dict[str, Any]]]:
    rows = read_manifest(output)
    by_shard: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_shard.setdefault(row["shard"], {})[row["key"]] = row
    return by_shard


def _check_shard(output: str, shard: dict[str, Any], rows: dict[str, dict]) -> Iterator[str]:
    name = shard["shard"]
    url = join(output, name)
    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(path):
        yield f"{name}: missing"
        return
    if fs.size(path) != shard["size"]:
        yield f"{name}: size {fs.size(path)} != {shard['size']} recorded in run.json"
    if file_digest(url) != shard["sha256"]:
        yield f"{name}: sha256 differs from run.json (the file changed after the build)"
    seen = set()
    try:
        for key, members in iter_samples(url):
            seen.add(key)
            row = rows.get(key)
            if row is None:
                yield f"{name}: sample {key!r} is not in the manifest"
                continue
            recorded = dict(zip(row["members"], row["member_sizes"], strict=True))
            actual = {f"{key}.{suffix}": len(data) for suffix, data in members.items()}
            if actual != recorded:
                yield f"{name}: sample {key!r} members {sorted(actual)} differ from the manifest"
            for suffix, data in members.items():
                try:
                    decode_member(suffix, data)
                except Exception as exc:  # any decode failure is a finding, not a crash
                    yield f"{name}: {key}.{suffix} does not decode: {type(exc).__name__}: {exc}"
    except (UnsafeShardError, OSError, EOFError) as exc:
        yield f"{name}: unreadable: {exc}"
    for key in sorted(set(rows) - seen):
        yield f"{name}: manifest row {key!r} is missing from the shard"


def verify(output: str) -> list[str]:
    """Every problem found in the build at `output` (an empty list when all holds)."""
    problems: list[str] = []
    try:
        run = read_json(join(output, "run.json"))
        by_shard = _manifest_by_shard(output)
        index = read_json(join(output, "index.json"))
    except (OSError, ValueError) as exc:
        return [f"{output}: not a complete build: {exc}"]
    shards = run.get("shards", [])
    for shard in shards:
        problems.extend(_check_shard(output, shard, by_shard.get(shard["shard"], {})))
    recorded = {s["shard"] for s in shards}
    for name in sorted(set(by_shard) - recorded):
        problems.append(f"the manifest names shard {name} that run.json does not list")
    fs, shards_path = fsspec.core.url_to_fs(join(output, "shards"))
    on_disk = {f"shards/{p.rsplit('/', 1)[-1]}" for p in fs.glob(f"{shards_path}/*.tar")}
    for name in sorted(on_disk - recorded):
        problems.append(f"{name}: a tar in shards/ that run.json does not list")
    for entry in index.get("shardlist", []):
        url = join(output, entry["url"])
        if entry["url"] in on_disk and file_digest(url, "md5") != entry["md5sum"]:
            problems.append(f"index.json: md5sum of {entry['url']} differs")
    counts = run.get("counts", {})
    if counts.get("written", 0) + counts.get("rejected", 0) != counts.get("read"):
        problems.append(f"run.json: written + rejected != read ({json.dumps(counts)})")
    return problems


def verify_command(
    output: Annotated[str, typer.Argument(help="A build folder (local or URL).")],
) -> None:
    """Re-read every shard of a build and check it; exit 1 and list every problem if any."""
    problems = verify(output)
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        typer.echo(f"{len(problems)} problem(s) in {output}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{output}: all shards, members and manifests check out")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
