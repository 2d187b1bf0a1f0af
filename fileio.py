"""Atomic file writes on any fsspec file system: write a temporary file, then rename.

A reader (or a resumed build) therefore sees either no file or a complete one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem


@contextmanager
def atomic_open(url: str) -> Iterator[IO[bytes]]:
    """Open `url` for binary writing; it appears under its name only when the block succeeds."""
    fs, path = fsspec.core.url_to_fs(url)
    parent = path.rsplit("/", 1)[0] if "/" in path else "."
    fs.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        local = isinstance(fs, LocalFileSystem)
        with fs.open(tmp, "wb") as fh:
            yield fh
            if local:
                fh.flush()
                os.fsync(fh.fileno())
        if local:
            os.replace(tmp, path)
        else:
            fs.mv(tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise


def write_bytes(url: str, data: bytes) -> None:
    """Atomically write `data` to `url`."""
    with atomic_open(url) as fh:
        fh.write(data)


def write_json(url: str, value: Any, indent: int | None = 2) -> None:
    """Atomically write `value` as key-sorted JSON (stable across runs)."""
    text = json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False, allow_nan=False)
    write_bytes(url, (text + "\n").encode("utf-8"))


def read_json(url: str) -> Any:
    with fsspec.open(url, "rb") as fh:
        return json.loads(fh.read())


def read_state(url: str, max_bytes: int = 1 << 24) -> dict[str, Any] | None:
    """A JSON object labelmill wrote for itself (a plan, a shard marker), or None when it is
    missing, not a regular file, larger than `max_bytes`, not JSON or not an object: state on
    disk may be damaged or planted, and damage means "redo it", never a crash or a hang."""
    fs, path = fsspec.core.url_to_fs(url)
    try:
        info = fs.info(path)
        if info.get("type") != "file" or (info.get("size") or 0) > max_bytes:
            return None
        with fs.open(path, "rb") as fh:
            value = json.loads(fh.read(max_bytes + 1))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def file_digest(url: str, algorithm: str = "sha256") -> str:
    """Hex digest of a file (sha256, or md5 for the wids index), read in 1 MiB blocks."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with fsspec.open(url, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir(name: str) -> str:
    """Where model answers are cached between runs: $LABELMILL_CACHE or ~/.cache/labelmill."""
    root = os.environ.get("LABELMILL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "labelmill"
    )
    return os.path.join(root, name)


def join(base: str, *parts: str) -> str:
    """Join URL or path parts with '/', the separator of every fsspec file system."""
    return "/".join([base.rstrip("/"), *parts])
