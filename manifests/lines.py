"""Split a text file into numbered physical lines and decode them, refusing what is not text.

A line ends at `\\n`, `\\r\\n` or a lone `\\r` (old Mac exports), with the ending kept so the CSV
parser still sees line breaks inside quoted fields. Lines are capped in length, so a file with
no line breaks at all cannot be read into memory whole. Encodings are checked up front: a UTF-16
or UTF-32 file read as UTF-8 is named as such, instead of failing on its first byte.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import IO

CHUNK = 1 << 20
MAX_LINE_BYTES = 64 << 20  # a line (a CSV record's part, a JSON object) longer than this is refused
_BREAK = re.compile(rb"\r\n|\r|\n")
_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


class LineError(ValueError):
    """The file cannot be split into text lines; the message says why (without the file name)."""


def codec_name(encoding: str) -> str:
    """The canonical name of a text encoding; LineError for an unknown or non-text codec."""
    try:
        info = codecs.lookup(encoding)
    except LookupError as exc:
        raise LineError(f"unknown encoding {encoding!r}") from exc
    if not getattr(info, "_is_text_encoding", True):
        raise LineError(f"{encoding!r} is not a text encoding")
    return info.name


def physical_lines(raw: IO[bytes]) -> Iterator[bytes]:
    """Each line of `raw` with its ending, reading 1 MiB at a time."""
    rest = b""
    while chunk := raw.read(CHUNK):
        data = rest + chunk
        start = 0
        for match in _BREAK.finditer(data):
            if match.end() == len(data) and data.endswith(b"\r"):
                break  # may be the first half of a \r\n split across chunks
            yield data[start : match.end()]
            start = match.end()
        rest = data[start:]
        if len(rest) > MAX_LINE_BYTES:
            raise LineError(f"a line is longer than {MAX_LINE_BYTES >> 20} MiB")
    if rest:
        yield rest


def decoded_lines(raw: IO[bytes], encoding: str, errors: str = "strict") -> Iterator[str]:
    """Decode `raw` line by line; raises LineError naming the line of a bad byte."""
    name = codec_name(encoding)
    head = raw.read(4)
    raw.seek(0)
    wide = "\n".encode(name) != b"\n"  # UTF-16/32: line breaks are not single bytes
    if not wide:
        for bom, family in _WIDE_BOMS.items():
            if head.startswith(bom):
                raise LineError(
                    f"is {family} text (it starts with a {family} byte-order mark), not {name};"
                    f" re-save it as UTF-8 or give its encoding ({family.lower()})"
                )
    if wide:
        yield from _wide_lines(raw, name, errors)
        return
    utf8 = name == "utf-8"
    for number, line in enumerate(physical_lines(raw), start=1):
        if number == 1 and b"\0" in line:
            raise LineError(
                "line 1 holds NUL bytes: UTF-16/32 text without a byte-order mark, or not text"
            )
        try:
            yield line.decode("utf-8-sig" if utf8 and number == 1 else name, errors)
        except UnicodeDecodeError as exc:
            raise LineError(
                f"line {number} is not {encoding} text (byte {line[exc.start]:#04x}"
                f" at offset {exc.start}); re-save it as UTF-8 or give its encoding"
            ) from exc


def _wide_lines(raw: IO[bytes], name: str, errors: str) -> Iterator[str]:
    """Lines of a UTF-16/32 file (the codec finds the breaks; newline='' keeps them)."""
    text = io.TextIOWrapper(raw, encoding=name, errors=errors, newline="")
    number = 0
    try:
        while line := text.readline(MAX_LINE_BYTES):
            number += 1
            if len(line) == MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
                raise LineError(f"line {number} is longer than {MAX_LINE_BYTES >> 20} MiB")
            yield line
    except UnicodeDecodeError as exc:
        raise LineError(f"after line {number}: not valid {name} text ({exc.reason})") from exc
    finally:
        text.detach()
