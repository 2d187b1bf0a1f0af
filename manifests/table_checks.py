"""Checks every table reader shares: is the file readable, are its columns sound, is a row's
content something later stages can carry (valid Unicode, bounded nesting), and the reading of a
JSON array file, which has no lines to number."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from labelmill.manifests.lines import MAX_LINE_BYTES

MAX_DEPTH = 64  # nesting of a row's values; JSON 100k deep would overflow the stack later
_SURROGATE = re.compile("[\ud800-\udfff]")


class TableError(ValueError):
    """A table that cannot be read as a whole; the message names the file and the problem."""


def check_readable(fs: Any, fs_path: str, path: str) -> None:
    """Raise TableError unless `path` is a regular file this process can open. A FIFO or device
    would block or never end, and a symlink loop or a chmod-000 file deserve their own name."""
    if not isinstance(fs, LocalFileSystem):
        if not fs.isfile(fs_path):
            raise TableError(f"{path}: no such file")
        return
    try:
        info = os.stat(fs_path)
        if stat.S_ISREG(info.st_mode):
            os.close(os.open(fs_path, os.O_RDONLY | os.O_NONBLOCK))
    except FileNotFoundError as exc:
        broken = os.path.islink(fs_path)
        raise TableError(f"{path}: {'a broken symlink' if broken else 'no such file'}") from exc
    except OSError as exc:
        why = "a symlink loop" if exc.errno == errno.ELOOP else exc.strerror
        raise TableError(f"{path}: cannot read: {why}") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise TableError(f"{path}: {kind}; a table is a regular file")


def check_columns(columns: Sequence[str], required: Sequence[str], path: str) -> None:
    """Raise TableError naming repeated columns, or the first required column that is missing."""
    repeated = [name for name, count in Counter(columns).items() if count > 1]
    if repeated:
        raise TableError(
            f"{path}: column(s) {', '.join(map(repr, repeated))} appear more than once;"
            " rename them so that no value is silently dropped"
        )
    for column in required:
        if column not in columns:
            found = ", ".join(columns)
            raise TableError(f"{path}: required column {column!r} is missing (columns: {found})")


def row_problem(record: dict[str, Any]) -> str:
    """What makes a row's values unusable downstream ('' when nothing): a lone surrogate (not
    encodable as UTF-8, so no writer can store it) or nesting deeper than MAX_DEPTH."""
    stack: list[tuple[str, Any, int]] = [(str(k), v, 1) for k, v in record.items()]
    for key in record:
        if isinstance(key, str) and _SURROGATE.search(key):
            return f"column name {key.encode('utf-8', 'backslashreplace')!r} has a lone surrogate"
    while stack:
        column, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"column {column!r} is nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            if not value.isascii() and (found := _SURROGATE.search(value)):
                return (
                    f"column {column!r} holds a lone surrogate (U+{ord(found.group()):04X}),"
                    " which is not valid Unicode text"
                )
        elif isinstance(value, dict):
            stack.extend((column, v, depth + 1) for v in (*value.keys(), *value.values()))
        elif isinstance(value, list | tuple):
            stack.extend((column, v, depth + 1) for v in value)
    return ""


def json_records(raw: Any, path: str) -> Iterator[tuple[int, str, Any]]:
    """The elements of a `.json` file holding one JSON array of row objects. The array is
    parsed whole, so it is capped at MAX_LINE_BYTES; JSON Lines streams any size."""
    data = raw.read(MAX_LINE_BYTES + 1)
    if len(data) > MAX_LINE_BYTES:
        raise TableError(
            f"{path}: a JSON array over {MAX_LINE_BYTES >> 20} MiB; write one object per line"
            " (JSON Lines, .jsonl), which is read as a stream"
        )
    try:
        items = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text (byte offset {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise TableError(f"{path}: not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise TableError(f"{path}: JSON nested too deeply to read") from exc
    for number, item in enumerate(items, start=1):
        yield number, f"array element {number}", item
