"""Read one input file (an image or a report) the guarded way, before anything decodes it.

A manifest is untrusted: its paths may point anywhere (`/etc/passwd`, `../../`, a symlink out of
the dataset), at a FIFO that blocks forever, at `/dev/zero`, or at a 3 GB sparse file. So a path
is resolved (symlinks included) and must lie inside the manifest's folder or an allowed root;
only regular files are opened, and never more than `max_file_bytes` is read. Each failure is a
per-row reject with its own reason.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from dataclasses import dataclass

from labelmill.fetch import DEFAULT_FETCH, FetchOptions, read_url
from labelmill.schemas.records import InputRow, Reason, RejectError

DEFAULT_MAX_FILE_BYTES = 256_000_000


@dataclass(frozen=True)
class FileLimits:
    """Where input files may live (besides the manifest's folder) and how large they may be."""

    allow_roots: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    fetch: FetchOptions = DEFAULT_FETCH  # remote reads: retries and their own size cap


def confine(row: InputRow, path: str, stage: str, limits: FileLimits) -> str:
    """The resolved location of `path` from `row`; rejects it when it leaves every root."""
    url = row.resolve(path)
    roots = tuple(r for r in (row.base, *limits.allow_roots) if r)
    if "://" in url:
        protocol, rest = url.split("://", 1)
        resolved = f"{protocol}://{posixpath.normpath('/' + rest).lstrip('/')}"
        inside = [r for r in roots if _under(resolved, r.rstrip("/"))]
    else:
        resolved = os.path.realpath(url)
        inside = [r for r in roots if "://" not in r and _under(resolved, os.path.realpath(r))]
    if not inside:
        where = " or ".join(roots) or "(no root)"
        raise RejectError(
            stage,
            Reason.PATH_OUTSIDE_ROOT,
            f"{path}: resolves to {resolved}, outside {where}; allow it with --allow-root DIR",
        )
    return resolved


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def read_input(row: InputRow, path: str, stage: str, missing: str, limits: FileLimits) -> bytes:
    """The bytes of the file `path` names for `row`, after every check above."""
    resolved = confine(row, path, stage, limits)
    if "://" in resolved:
        return read_url(resolved, stage, missing, limits.fetch)
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise RejectError(stage, missing, f"{path}: no such file") from exc
    except OSError as exc:
        why = "a symlink loop" if exc.errno == errno.ELOOP else exc.strerror
        raise RejectError(stage, Reason.UNREADABLE_FILE, f"{path}: {why}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise RejectError(stage, Reason.UNREADABLE_FILE, f"{path}: is a folder")
        raise RejectError(
            stage, Reason.NOT_A_REGULAR_FILE, f"{path}: {_kind(info.st_mode)}, not a file"
        )
    with os.fdopen(fd, "rb") as fh:
        _check_size(info.st_size, path, stage, limits.max_file_bytes)
        try:
            # Ask for the size fstat gave (plus one byte, to notice growth): a read of
            # max_file_bytes allocates that much before it shrinks, for every tiny file.
            data = fh.read(info.st_size + 1)
            if len(data) > info.st_size:  # it grew since fstat (or a /proc file says 0)
                data += fh.read(limits.max_file_bytes + 1 - len(data))
        except OSError as exc:
            raise RejectError(stage, Reason.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    _check_size(len(data), path, stage, limits.max_file_bytes)  # it grew while we read
    return data


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def _check_size(size: int, path: str, stage: str, limit: int) -> None:
    if size > limit:
        raise RejectError(
            stage, Reason.FILE_TOO_LARGE, f"{path}: {size:,} bytes, over max_file_bytes={limit:,}"
        )
