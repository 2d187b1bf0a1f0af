"""Read WebDataset shards safely, one sample at a time, without extracting anything to disk.

The tar stream is parsed here rather than by `tarfile`, which stops without a word at a bad
header after the first member (a reader would then see 1 of 10 samples and exit 0). Every
header's checksum is verified, a member may not claim more than `MAX_MEMBER_BYTES`, the archive
must end with its end-of-archive block, and a member named with `..`, an absolute path, a
backslash or a drive letter, or one that is not a regular file, is refused. Each refusal is an
`UnsafeShardError` naming the shard and the byte offset.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from typing import IO, Any

import fsspec
import numpy as np
from PIL import Image

from labelmill.manifests.keys import is_safe_member_name

BLOCK = 512
MAX_MEMBER_BYTES = 1 << 30  # no member labelmill writes comes near this (inputs cap at 256 MB)
MAX_DECODED_PIXELS = 100_000_000  # the build's own default max_pixels
_FILE_TYPES = (b"0", b"\0", b"7")
_SKIPPED_TYPES = (b"g",)  # pax global headers carry nothing a sample needs


class UnsafeShardError(ValueError):
    """A shard that cannot be read safely or completely: an unsafe or non-file member, a broken
    or truncated header, a member over the size cap. The message names the shard and offset."""


def iter_members(url: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each regular-file member, in tar order."""
    with fsspec.open(url, "rb") as fh:
        yield from read_members(fh, url)


def read_members(fh: IO[bytes], url: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each member of the tar stream `fh` (read once, front to back)."""
    offset = 0
    extended: dict[str, str] = {}
    while True:
        header = fh.read(BLOCK)
        if len(header) < BLOCK:
            what = "is empty" if offset == 0 and not header else "ends without its end block"
            raise UnsafeShardError(f"{url}: {what} at offset {offset} (truncated?)")
        if header == bytes(BLOCK):
            return
        name, size, kind = _parse_header(header, url, offset)
        if size > MAX_MEMBER_BYTES:
            raise UnsafeShardError(
                f"{url}: member {name!r} at offset {offset} claims {size:,} bytes,"
                f" over the {MAX_MEMBER_BYTES:,}-byte cap"
            )
        data = fh.read(size)
        padding = fh.read(-size % BLOCK)
        if len(data) < size or len(padding) < -size % BLOCK:
            raise UnsafeShardError(
                f"{url}: member {name!r} at offset {offset} is truncated"
                f" ({len(data):,} of {size:,} bytes)"
            )
        offset += BLOCK + size + len(padding)
        if kind in (b"L", b"x"):
            extended.update(_extended_names(kind, data))
            continue
        if kind in _SKIPPED_TYPES:
            continue
        name = extended.pop("path", name)
        extended.clear()
        if not is_safe_member_name(name):
            raise UnsafeShardError(f"{url}: unsafe member name {name!r}")
        if kind not in _FILE_TYPES:
            raise UnsafeShardError(f"{url}: member {name!r} is not a regular file")
        yield name, data


def _parse_header(header: bytes, url: str, offset: int) -> tuple[str, int, bytes]:
    """(name, size, type flag) of a ustar/GNU header whose checksum is right."""
    try:
        stored = int(header[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        stored = -1
    unsigned = sum(header[:148]) + 256 + sum(header[156:])
    signed = unsigned - 256 * sum(1 for b in header[:148] + header[156:] if b > 127)
    if stored not in (unsigned, signed):
        raise UnsafeShardError(f"{url}: bad tar header at offset {offset} (checksum mismatch)")
    field = header[124:136]
    if field[0] & 0x80:  # GNU base-256 size
        size = int.from_bytes(field[1:], "big")
    else:
        try:
            size = int(field.split(b"\0", 1)[0].strip() or b"0", 8)
        except ValueError:
            raise UnsafeShardError(f"{url}: bad size field at offset {offset}") from None
    name = header[:100].split(b"\0", 1)[0]
    if header[257:263] == b"ustar\0" and header[345] != 0:  # POSIX ustar name prefix
        name = header[345:500].split(b"\0", 1)[0] + b"/" + name
    try:
        return name.decode("utf-8"), size, header[156:157]
    except UnicodeDecodeError:
        raise UnsafeShardError(f"{url}: member name at offset {offset} is not UTF-8") from None


def _extended_names(kind: bytes, data: bytes) -> dict[str, str]:
    """The member name a GNU long-name ('L') or pax ('x') header gives the next member."""
    if kind == b"L":
        return {"path": data.split(b"\0", 1)[0].decode("utf-8", "replace")}
    found = {}
    for record in data.decode("utf-8", "replace").splitlines():
        _, _, pair = record.partition(" ")
        key, _, value = pair.partition("=")
        if key == "path":
            found["path"] = value
    return found


def group_samples(members: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {suffix: bytes}) per sample; the key is the member name up to its first dot."""
    key, grouped = None, {}
    for name, data in members:
        sample_key, _, suffix = name.partition(".")
        if sample_key != key and key is not None:
            yield key, grouped
            grouped = {}
        key = sample_key
        grouped[suffix] = data
    if key is not None:
        yield key, grouped


def iter_samples(url: str) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {suffix: bytes}) per sample of the shard at `url`."""
    yield from group_samples(iter_members(url))


def decode_json(data: bytes) -> Any:
    """JSON from a member; ValueError (never RecursionError) for JSON nested too deeply."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None


def decode_member(suffix: str, data: bytes) -> Any:
    """Decode one member by its suffix, as a trainer would; raises on a broken member. Never
    unpickles (an object `.npy` raises, and so does any suffix not listed here, such as `.pkl`),
    and an image declaring more than MAX_DECODED_PIXELS is refused before it is decoded."""
    ext = suffix.rsplit(".", 1)[-1].lower()
    if ext == "json":
        return decode_json(data)
    if ext == "txt":
        return data.decode("utf-8")
    if ext == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if ext in ("png", "jpg", "jpeg"):
        return open_image(data)
    raise ValueError(f"refusing to decode a .{ext} member: not a type labelmill writes")


def open_image(data: bytes) -> Image.Image:
    """Decoded image bytes; ValueError for bytes that declare more than MAX_DECODED_PIXELS (a
    decompression bomb, refused before any pixel is decoded) or do not decode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_DECODED_PIXELS:
                raise ValueError(f"declares {width}x{height} pixels, a decompression bomb")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"a decompression bomb: {exc}") from None
    except OSError as exc:
        raise ValueError(f"does not decode: {exc}") from None
    return image


def decode_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """A webdataset or wids sample with every member decoded by `decode_member`; `__key__` and
    the other `__` fields pass through. Use it instead of webdataset's `.decode("pil")` or wids'
    default decoder: both unpickle `.pkl`/`.pyd` members, so a planted member runs code."""
    decoded = {}
    for name, value in sample.items():
        if name.startswith("__"):
            decoded[name] = value
            continue
        data = value.read() if hasattr(value, "read") else value
        decoded[name] = decode_member(name.lstrip("."), data)
    return decoded
