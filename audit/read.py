"""Read a build folder for the audit: run.json, the rejects parts, and the shards, streamed.

Shards are streamed one sample at a time (tar stream mode, unsafe member names refused), so the
audit's memory does not grow with the dataset; sections keep what they need and drop the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np

from labelmill.fileio import join, read_json
from labelmill.manifests import built
from labelmill.pipelines import shard_reader
from labelmill.schemas.sample import decode_sample_json

IMAGE_SUFFIXES = ("png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp")


def is_label_map(suffix: str) -> bool:
    return suffix.endswith(".npy") and "labelmap" in suffix


class BuildFormatError(ValueError):
    """A shard member that is not what `labelmill build` writes (schemas/sample.py)."""


@dataclass
class ShardSample:
    """One sample of a shard: its `{key}.json` document and its other members' bytes."""

    key: str
    doc: dict[str, Any]
    members: dict[str, bytes] = field(default_factory=dict)

    @property
    def image(self) -> bytes | None:
        return next((self.members[s] for s in IMAGE_SUFFIXES if s in self.members), None)

    @property
    def report(self) -> str:
        return self.members.get("txt", b"").decode("utf-8", errors="replace")

    def label_maps(self) -> dict[str, np.ndarray]:
        """The `.npy` members whose names contain "labelmap", decoded (no pickles)."""
        try:
            return {
                suffix[: -len(".npy")]: np.load(io.BytesIO(data), allow_pickle=False)
                for suffix, data in sorted(self.members.items())
                if is_label_map(suffix)
            }
        except ValueError as exc:  # an object array (a pickle) or a broken header
            raise BuildFormatError(f"{self.key}: a label map does not load: {exc}") from exc


def read_run(build_dir: str) -> dict[str, Any]:
    """run.json, or an empty summary when the build never finished writing it."""
    fs, path = fsspec.core.url_to_fs(join(build_dir, "run.json"))
    return read_json(join(build_dir, "run.json")) if fs.exists(path) else {}


def read_harmonize(build_dir: str, run: dict[str, Any]) -> Any:
    """The harmonizer's record: run.json's `harmonize`, else the build's `_work/harmonize.json`
    (decisions and the harmonizer's description), else None when the build was not harmonized."""
    if "harmonize" in run:
        return run["harmonize"]
    url = join(build_dir, "_work", "harmonize.json")
    fs, path = fsspec.core.url_to_fs(url)
    return read_json(url) if fs.exists(path) else None


def read_rejects(build_dir: str) -> list[dict[str, Any]]:
    """The build's rejects as row dicts, sorted by input row; empty when absent."""
    fs, path = fsspec.core.url_to_fs(join(build_dir, "rejects"))
    if not fs.exists(path):
        return []
    rows = built.read_rejects(build_dir)
    return sorted(rows, key=lambda r: (r.get("row") or 0, str(r.get("id"))))


def shard_urls(build_dir: str, run: dict[str, Any]) -> list[str]:
    """The build's shards in build order: run.json's list, else the sorted shards/*.tar."""
    listed = [s["shard"] for s in run.get("shards", []) if s.get("nsamples", 1) > 0]
    if listed:
        return [join(build_dir, name) for name in listed]
    fs, path = fsspec.core.url_to_fs(join(build_dir, "shards"))
    found = sorted(fs.glob(f"{path}/*.tar")) if fs.exists(path) else []
    return [join(build_dir, "shards", p.rsplit("/", 1)[-1]) for p in found]


def iter_samples(
    url: str, keep: Callable[[str], bool] = lambda suffix: True
) -> Iterator[ShardSample]:
    """Samples of one shard in tar order, through the project's safe shard reader; `keep(suffix)`
    says which members besides the JSON to hold on to. A sample without JSON is skipped."""
    for key, members in shard_reader.iter_samples(url):
        data = members.pop("json", None)
        if data is None:
            continue
        try:
            doc = decode_sample_json(data)
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            raise BuildFormatError(f"{url}: {key}.json does not follow the sample layout") from exc
        kept = {suffix: value for suffix, value in members.items() if keep(suffix)}
        yield ShardSample(key=key, doc=doc, members=kept)
