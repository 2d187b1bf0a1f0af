"""Deterministic WebDataset shard writing.

Members get a fixed mtime, owner and mode, and samples keep their input order, so the same inputs
and config give byte-identical tars. The tar is written through `atomic_open`, so a killed build
never leaves a partial shard under its final name.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from labelmill.fileio import atomic_open
from labelmill.manifests.keys import is_safe_member_name

FIXED_MTIME = 946684800  # 2000-01-01: a constant, so rebuilds are byte-identical


class _HashingWriter(io.RawIOBase):
    """Pass-through writer that counts bytes and computes the sha256 of what goes by."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.target.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


class ShardWriter:
    """Append samples (member suffix -> bytes) to one tar; `size` and `sha256` when closed."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._out = _HashingWriter(fh)
        self._tar = tarfile.open(fileobj=self._out, mode="w", format=tarfile.PAX_FORMAT)
        self.count = 0

    def write(self, key: str, members: dict[str, bytes]) -> dict[str, int]:
        """Write one sample's members in sorted order; returns member name -> size."""
        sizes = {}
        for suffix in sorted(members):
            name = f"{key}.{suffix}"
            if not is_safe_member_name(name):
                raise ValueError(f"unsafe tar member name {name!r}")
            data = members[suffix]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = FIXED_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self._tar.addfile(info, io.BytesIO(data))
            sizes[name] = len(data)
        self.count += 1
        return sizes

    def close(self) -> None:
        self._tar.close()

    @property
    def size(self) -> int:
        return self._out.size

    @property
    def sha256(self) -> str:
        return self._out.sha256.hexdigest()


@contextmanager
def open_shard(url: str) -> Iterator[ShardWriter]:
    """Write a shard at `url` atomically: it appears only once complete."""
    with atomic_open(url) as fh:
        writer = ShardWriter(fh)
        try:
            yield writer
        finally:
            writer.close()
