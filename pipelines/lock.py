"""One build at a time per output folder.

Two builds writing the same shards would race on every rename, and `--overwrite` would delete
what the other is writing. Locally the lock is an `fcntl` lock on `OUTPUT/.labelmill.lock`
(released by the kernel when the process dies, so a `kill -9` never leaves a stale lock; the
file holds the owner's pid for the message). On an object store, which has no locks, the
lock is that object itself, created if absent and removed at the end; a build that crashed
leaves it behind, and the message says how to clear it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import fsspec

from labelmill.fileio import join

LOCK_NAME = ".labelmill.lock"


class OutputLockedError(RuntimeError):
    """Another build is writing into the same output folder."""


def _owner() -> dict[str, object]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": round(time.time())}


@contextmanager
def output_lock(output: str) -> Iterator[None]:
    """Hold the output's lock for the block; raises OutputLockedError if another build has it."""
    if "://" in output:
        with _object_lock(output):
            yield
        return
    import fcntl

    os.makedirs(output, exist_ok=True)
    path = os.path.join(output, LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            owner = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
            raise OutputLockedError(
                f"{output} is being built by another process ({owner}); wait for it to"
                " finish or choose another --output"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def _object_lock(output: str) -> Iterator[None]:
    url = join(output, LOCK_NAME)
    fs, path = fsspec.core.url_to_fs(url)
    if fs.exists(path):
        owner = fs.cat(path).decode("utf-8", "replace")
        raise OutputLockedError(
            f"{output} is being built by another build ({owner}); if none is running, delete"
            f" {url} and run again"
        )
    fs.pipe(path, json.dumps(_owner()).encode())
    try:
        yield
    finally:
        fs.rm(path)
