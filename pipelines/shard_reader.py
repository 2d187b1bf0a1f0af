"""Read WebDataset shards safely, one sample at a time, without extracting anything to disk.

A member named with `..`, an absolute path, a backslash or a drive letter is refused: a shard
from elsewhere must never make a reader touch files outside what it was asked to read.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import fsspec
import numpy as np
from PIL import Image

from labelmill.manifests.keys import is_safe_member_name


class UnsafeShardError(ValueError):
    """A shard holds a member whose name could escape its folder, or a non-file member."""


def iter_members(url: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each regular-file member, in tar order; refuses unsafe names."""
    with fsspec.open(url, "rb") as fh, tarfile.open(fileobj=fh, mode="r|") as tar:
        for member in tar:
            if not is_safe_member_name(member.name):
                raise UnsafeShardError(f"{url}: unsafe member name {member.name!r}")
            if not member.isfile():
                raise UnsafeShardError(f"{url}: member {member.name!r} is not a regular file")
            extracted = tar.extractfile(member)
            yield member.name, extracted.read() if extracted else b""


def iter_samples(url: str) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {suffix: bytes}) per sample; the key is the member name up to its first dot."""
    key, members = None, {}
    for name, data in iter_members(url):
        sample_key, _, suffix = name.partition(".")
        if sample_key != key and key is not None:
            yield key, members
            members = {}
        key = sample_key
        members[suffix] = data
    if key is not None:
        yield key, members


def decode_member(suffix: str, data: bytes) -> Any:
    """Decode one member by its suffix, as a trainer would; raises on a broken member."""
    ext = suffix.rsplit(".", 1)[-1]
    if ext == "json":
        return json.loads(data)
    if ext == "txt":
        return data.decode("utf-8")
    if ext == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if ext in ("png", "jpg", "jpeg"):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size
    return data
