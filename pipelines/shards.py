"""Deterministic WebDataset shard writing.

Members get a fixed mtime, owner and mode, and samples keep their input order, so the same inputs
and config give byte-identical tars. The tar is written through `atomic_open`, so a killed build
never leaves a partial shard under its final name.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from labelmill.fileio import atomic_open
from labelmill.manifests.keys import is_safe_member_name

FIXED_MTIME = 946684800  # 2000-01-01: a constant, so rebuilds are byte-identical


BLOCK = 512
RECORD = 20 * BLOCK  # tar's record size: archives end padded to a multiple of it


# The fixed fields of every ustar header: mode, uid, gid (100:124); the size goes at 124:136,
# then the mtime (136:148), the checksum (148:156), the type flag, the link name and the magic.
_OWNER = b"0000644\0" + b"0000000\0" * 2
_MTIME = b"%011o\0" % FIXED_MTIME
_TAIL = b"0" + b"\0" * 100 + b"ustar\x0000" + b"\0" * (BLOCK - 265)
# The checksum is the byte sum of the header with its own field read as spaces: the fixed
# fields' share is summed once here, the name and size are added per member.
_FIXED_SUM = sum(_OWNER) + sum(_MTIME) + sum(b" " * 8) + sum(_TAIL)
_MAX_SIZE = 8**11  # the most an 11-digit octal size field holds
_ZEROS = bytes(BLOCK)


def member_header(name: str, size: int) -> bytes:
    """A ustar header with fixed mode, owner and mtime (names over 100 bytes, or members over
    8 GiB, get GNU headers from the standard library). Assembled from constant parts, with a
    checksum from two small byte sums: several times cheaper than `tarfile.addfile`, which
    matters at thousands of samples per second."""
    encoded = name.encode("utf-8")
    if len(encoded) > 100 or size >= _MAX_SIZE:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, FIXED_MTIME, 0o644
        return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict")
    size_field = b"%011o\0" % size
    checksum = b"%06o\0 " % (_FIXED_SUM + sum(encoded) + sum(size_field))
    return b"".join(
        (encoded, bytes(100 - len(encoded)), _OWNER, size_field, _MTIME, checksum, _TAIL)
    )


class ShardWriter:
    """Append samples (member suffix -> bytes) to one tar; `size`, `sha256` and `md5` (for the
    wids index) come from the bytes as they are written, so no one rereads the shard."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.count = 0

    def _write(self, data: bytes) -> None:
        self._fh.write(data)
        self._sha256.update(data)
        self._md5.update(data)
        self.size += len(data)

    def write(self, key: str, members: dict[str, bytes]) -> dict[str, int]:
        """Write one sample's members in sorted order; returns member name -> size.

        The sample's headers, data and padding are joined once and written (and hashed) as
        one piece: one copy of the data, and three calls per sample instead of per member."""
        sizes = {}
        parts = []
        for suffix in sorted(members):
            name = f"{key}.{suffix}"
            if not is_safe_member_name(name):
                raise ValueError(f"unsafe tar member name {name!r}")
            data = members[suffix]
            parts += (member_header(name, len(data)), data, _ZEROS[: -len(data) % BLOCK])
            sizes[name] = len(data)
        self._write(b"".join(parts))
        self.count += 1
        return sizes

    def close(self) -> None:
        """End the archive: two zero blocks, padded to a whole record."""
        end = 2 * BLOCK
        self._write(b"\0" * (end + (-(self.size + end) % RECORD)))

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()


@contextmanager
def open_shard(url: str) -> Iterator[ShardWriter]:
    """Write a shard at `url` atomically: it appears only once complete."""
    with atomic_open(url) as fh:
        writer = ShardWriter(fh)
        try:
            yield writer
        finally:
            writer.close()
