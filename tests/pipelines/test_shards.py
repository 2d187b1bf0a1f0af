"""Tar members as written by the shard writer: standard headers, whole records, digests of
exactly the bytes on disk."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from labelmill.pipelines.shards import BLOCK, FIXED_MTIME, RECORD, ShardWriter, member_header


def reference_header(name: str, size: int) -> bytes:
    """The ustar layout field by field, checksum summed over the whole block."""
    header = bytearray(BLOCK)
    encoded = name.encode("utf-8")
    header[0 : len(encoded)] = encoded
    header[100:124] = b"0000644\0" + b"0000000\0" * 2
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"%011o\0" % FIXED_MTIME
    header[148:156] = b" " * 8
    header[156:157] = b"0"
    header[257:265] = b"ustar\x0000"
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


@pytest.mark.parametrize("name", ["a.json", "s0000001.jpg", "é" * 40, "k" * 100])
@pytest.mark.parametrize("size", [0, 1, 511, 512, 10**6, 8**11 - 1])
def test_member_header_is_the_ustar_layout(name, size):
    assert member_header(name, size) == reference_header(name, size)


def test_long_names_and_huge_members_get_headers_tarfile_reads():
    for name, size in (("n" * 150 + ".json", 3), ("big.bin", 8**11)):
        info = tarfile.TarInfo.frombuf(member_header(name, size)[:BLOCK], "utf-8", "strict")
        assert info.size == size or info.type == tarfile.GNUTYPE_LONGNAME


def test_shard_writer_output_reads_back_with_its_digests():
    out = io.BytesIO()
    writer = ShardWriter(out)
    samples = {"k1": {"json": b'{"a": 1}', "jpg": b"\xff" * 700, "txt": b""}, "k2": {"txt": b"x"}}
    sizes = [writer.write(key, members) for key, members in samples.items()]
    writer.close()
    data = out.getvalue()
    assert sizes[0] == {"k1.jpg": 700, "k1.json": 8, "k1.txt": 0}
    assert len(data) % RECORD == 0 and writer.size == len(data)
    assert writer.sha256 == hashlib.sha256(data).hexdigest()
    assert writer.md5 == hashlib.md5(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        read = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        assert all(m.mtime == FIXED_MTIME and m.mode == 0o644 for m in tar.getmembers())
    assert list(read) == ["k1.jpg", "k1.json", "k1.txt", "k2.txt"]
    assert read["k1.jpg"] == b"\xff" * 700 and read["k2.txt"] == b"x"


def test_unsafe_member_names_are_refused():
    with pytest.raises(ValueError, match="unsafe"):
        ShardWriter(io.BytesIO()).write("../x", {"txt": b""})
