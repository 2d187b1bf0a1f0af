"""Check one shard of a build in a single read: size, sha256 and md5 come from the same bytes
that the tar parser walks, so a shard is read once, however many checks run on it.

What a sample may hold is the build's member set: its JSON, its report text, its one image
format and `.npy` arrays. Anything else (a `.pkl`, a `.pyd`) is refused: webdataset's and wids'
default decoders would unpickle such a member, so a shard that carries one must not pass.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

import fsspec

from labelmill.pipelines.shard_reader import (
    UnsafeShardError,
    decode_member,
    group_samples,
    read_members,
)

SHARD_NAME = re.compile(r"shards/[A-Za-z0-9_.-]+\.tar")
_ARRAY_SUFFIX = re.compile(r"[A-Za-z0-9_]+\.npy")


def allowed_suffix(suffix: str, image_ext: str | None) -> bool:
    """True for a member suffix the build writes (any image format when `image_ext` is None)."""
    images = (image_ext,) if image_ext else ("png", "jpg")
    return suffix in ("json", "txt", *images) or bool(_ARRAY_SUFFIX.fullmatch(suffix))


def sample_digest(key: str, sizes: Iterable[tuple[str, int]]) -> int:
    """An order-free digest of one sample's member names and sizes; summed (mod 2**256) over a
    shard, the manifest's rows and the shard's samples agree exactly when their sets do."""
    text = key + "\0" + "\0".join(f"{name}:{size}" for name, size in sorted(sizes))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), "big")


@dataclass
class ShardContents:
    """What one read of a shard found: its hashes and each sample's member sizes."""

    size: int = 0
    sha256: str = ""
    md5: str = ""
    samples: dict[str, dict[str, int]] = field(default_factory=dict)
    digest: int = 0
    problems: list[str] = field(default_factory=list)


class _Hashing:
    """A read-only stream that hashes and counts what passes through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh, self.size = fh, 0
        self.sha256, self.md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.sha256.update(data)
        self.md5.update(data)
        self.size += len(data)
        return data


def open_shard_file(output: str, name: str) -> IO[bytes] | str:
    """The open shard `name` of the build at `output`, or the problem that stops it being read:
    a name outside shards/ (run.json is data too), a missing file, or one that is not regular
    (a device such as /dev/zero would never end)."""
    if not SHARD_NAME.fullmatch(name):
        return f"run.json names shard {name!r}, which is not shards/NAME.tar; not read"
    url = f"{output.rstrip('/')}/{name}"
    fs, path = fsspec.core.url_to_fs(url)
    try:
        if "://" not in url:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return f"{name}: not a regular file; not read"
            return open(path, "rb")  # noqa: SIM115 (closed by the caller)
        return fs.open(path, "rb")
    except FileNotFoundError:
        return f"{name}: missing"
    except OSError as exc:
        return f"{name}: unreadable: {exc.strerror or exc}"


def read_shard(name: str, fh: IO[bytes], image_ext: str | None) -> ShardContents:
    """Walk, decode and hash the shard in `fh` once; problems are collected, never raised."""
    found = ShardContents()
    stream = _Hashing(fh)
    try:
        for key, members in group_samples(read_members(stream, name)):
            if key in found.samples:
                found.problems.append(f"{name}: sample {key!r} appears twice")
            sizes = {f"{key}.{suffix}": len(data) for suffix, data in members.items()}
            found.samples[key] = sizes
            found.digest += sample_digest(key, sizes.items())
            found.problems.extend(_member_problems(name, key, members, image_ext))
        while stream.read(1 << 20):  # the end-of-archive padding is part of the hash
            pass
    except (UnsafeShardError, OSError) as exc:
        found.problems.append(f"{name}: unreadable: {exc}")
    found.digest %= 1 << 256
    found.size, found.sha256, found.md5 = (
        stream.size,
        stream.sha256.hexdigest(),
        stream.md5.hexdigest(),
    )
    return found


def _member_problems(
    name: str, key: str, members: dict[str, bytes], image_ext: str | None
) -> Iterator[str]:
    for suffix, data in members.items():
        if not allowed_suffix(suffix, image_ext):
            yield f"{name}: {key}.{suffix} is not a member labelmill writes (refused: unsafe)"
            continue
        try:
            decode_member(suffix, data)
        except Exception as exc:  # any decode failure is a finding, not a crash
            yield f"{name}: {key}.{suffix} does not decode: {type(exc).__name__}: {exc}"
