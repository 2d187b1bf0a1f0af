"""`labelmill verify DIR`: re-read every shard and check it against what the build recorded.

Checks sizes, sha256 and md5 against run.json and the wids index, that every manifest row is in
its shard with the same members and sizes and every shard member is in the manifest, that only
the build's member set is present, that members decode (images, JSON, text, npy without pickle),
and that the counts balance. Lists every problem it finds, not just the first.

Memory stays flat in the number of samples: the manifest is streamed once into a count and an
order-free digest per shard (O(shards)), each shard is read once, and only a shard whose digest
disagrees has its manifest rows read back to name the samples that differ.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from typing import Annotated, Any

import fsspec
import typer

from labelmill.fileio import join
from labelmill.manifests.built import iter_parts
from labelmill.pipelines.verify_shard import (
    ShardContents,
    allowed_suffix,
    open_shard_file,
    read_shard,
    sample_digest,
)

MAX_JSON_BYTES = 256 << 20
MAX_PROBLEMS_PER_SHARD = 20
_COLUMNS = ["key", "shard", "members", "member_sizes"]


def read_small_json(url: str) -> Any:
    """A build's JSON file, read only when it is a regular file of bounded size."""
    fs, path = fsspec.core.url_to_fs(url)
    if "://" not in url and not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{url} is not a regular file")
    with fs.open(path, "rb") as fh:
        data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"{url} is over {MAX_JSON_BYTES >> 20} MiB")
    return json.loads(data)


def _manifest_rows(output: str, shard: str | None = None) -> Iterator[dict[str, Any]]:
    """The manifest's rows, streamed one part (one shard's rows) at a time (only those of
    `shard` when given)."""
    for part in iter_parts(output, "manifest"):
        for row in part.select(_COLUMNS).to_pylist():
            if shard is None or row["shard"] == shard:
                yield row


def _recorded(row: dict[str, Any]) -> dict[str, int]:
    return dict(zip(row["members"] or [], row["member_sizes"] or [], strict=False))


def manifest_digests(output: str, image_ext: str | None) -> tuple[dict[str, list[int]], list[str]]:
    """shard -> [rows, digest] over the whole manifest in one pass, and the member problems."""
    digests: dict[str, list[int]] = {}
    problems: list[str] = []
    for row in _manifest_rows(output):
        entry = digests.setdefault(row["shard"], [0, 0])
        entry[0] += 1
        entry[1] = (entry[1] + sample_digest(row["key"], _recorded(row).items())) % (1 << 256)
        for member in row["members"] or []:
            suffix = member.partition(".")[2]
            if not allowed_suffix(suffix, image_ext) and len(problems) < MAX_PROBLEMS_PER_SHARD:
                problems.append(f"the manifest: {member} is not a member labelmill writes")
    return digests, problems


def _differences(output: str, name: str, found: ShardContents) -> Iterator[str]:
    """Name the samples of one shard that differ from its manifest rows (one shard in memory)."""
    rows = {row["key"]: _recorded(row) for row in _manifest_rows(output, name)}
    for key, sizes in found.samples.items():
        if key not in rows:
            yield f"{name}: sample {key!r} is not in the manifest"
        elif sizes != rows[key]:
            yield f"{name}: sample {key!r} members {sorted(sizes)} differ from the manifest"
    for key in sorted(set(rows) - set(found.samples)):
        yield f"{name}: manifest row {key!r} is missing from the shard"


def _check_shard(
    output: str, shard: dict[str, Any], expected: list[int], image_ext: str | None
) -> tuple[list[str], ShardContents | None]:
    name = str(shard.get("shard"))
    opened = open_shard_file(output, name)
    if isinstance(opened, str):
        return [opened], None
    with opened as fh:
        found = read_shard(name, fh, image_ext)
    problems = found.problems
    if found.size != shard.get("size"):
        problems.append(f"{name}: size {found.size} != {shard.get('size')} recorded in run.json")
    if found.sha256 != shard.get("sha256"):
        problems.append(f"{name}: sha256 differs from run.json (the file changed after the build)")
    if [len(found.samples), found.digest] != expected:
        problems.extend(_differences(output, name, found))
    if len(problems) > MAX_PROBLEMS_PER_SHARD:
        more = len(problems) - MAX_PROBLEMS_PER_SHARD
        problems = [*problems[:MAX_PROBLEMS_PER_SHARD], f"{name}: ... and {more} more problems"]
    return problems, found


def verify(output: str) -> list[str]:
    """Every problem found in the build at `output` (an empty list when all holds)."""
    try:
        run = read_small_json(join(output, "run.json"))
        index = read_small_json(join(output, "index.json"))
        image_ext = run.get("image_ext")
        digests, problems = manifest_digests(output, image_ext)
        shards = [s for s in run.get("shards", []) if isinstance(s, dict)]
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
        return [f"{output}: not a complete build: {exc}"]
    md5s: dict[str, str] = {}
    for shard in shards:
        found_problems, found = _check_shard(
            output, shard, digests.get(shard.get("shard"), [0, 0]), image_ext
        )
        problems.extend(found_problems)
        if found is not None:
            md5s[shard["shard"]] = found.md5
    recorded = {s.get("shard") for s in shards}
    for name in sorted(set(digests) - recorded):
        problems.append(f"the manifest names shard {name} that run.json does not list")
    fs, shards_path = fsspec.core.url_to_fs(join(output, "shards"))
    on_disk = {f"shards/{p.rsplit('/', 1)[-1]}" for p in fs.glob(f"{shards_path}/*.tar")}
    for name in sorted(on_disk - recorded):
        problems.append(f"{name}: a tar in shards/ that run.json does not list")
    for entry in index.get("shardlist", []) if isinstance(index, dict) else []:
        url = entry.get("url") if isinstance(entry, dict) else None
        if url not in recorded:
            problems.append(f"index.json lists {url!r}, which run.json does not")
        elif url in md5s and md5s[url] != entry.get("md5sum"):
            problems.append(f"index.json: md5sum of {url} differs")
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
