"""The type and range of every build option, checked when a config is made.

A YAML file or a plan file can hold anything (`shard_max_samples: 'abc'`, `name: 123`,
`manifest_encoding: rot13`); each rule raises one ConfigError line naming the option, what it
expects and what it got, before any work starts.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Any

IMAGE_FORMATS = ("keep", "png", "jpeg")
COLUMN_NAMES = ("id", "image", "report", "report_path", "labels")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

Rule = Callable[[str, Any], None]


class ConfigError(ValueError):
    """A build config value that is out of range or unknown; the message names the field."""


def _fail(name: str, expected: str, value: Any) -> None:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ConfigError(f"{name}: expected {expected}, got {shown} ({type(value).__name__})")


def integer(low: int, high: int | None = None, optional: bool = False) -> Rule:
    """An int (not a bool, not a float) in [low, high]; None allowed when optional."""
    span = f">= {low}" if high is None else f"from {low} to {high}"
    expected = f"an integer {span}" + (" or null" if optional else "")

    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or value < low or (high is not None and value > high):
            _fail(name, expected, value)

    return check


def positive_number(name: str, value: Any) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if not ok:
        _fail(name, "a number > 0", value)


def optional_text(name: str, value: Any) -> None:
    if value is not None:
        text(name, value)


def choice(options: tuple[str, ...]) -> Rule:
    def check(name: str, value: Any) -> None:
        if value not in options:
            _fail(name, f"one of {', '.join(options)}", value)

    return check


def text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        _fail(name, "a non-empty string", value)


def shard_name(name: str, value: Any) -> None:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        _fail(name, "1 to 64 letters, digits, '-' or '_'", value)


def encoding(name: str, value: Any) -> None:
    """A text encoding Python knows (rot13 and base64 are codecs, but not text encodings)."""
    try:
        ok = isinstance(value, str) and codecs.lookup(value)._is_text_encoding
    except LookupError:
        ok = False
    if not ok:
        _fail(name, "a text encoding such as utf-8, latin-1 or cp1252", value)


def mapping(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        _fail(name, "a mapping of option: value, or null", value)


def labelers(name: str, value: Any) -> None:
    if not isinstance(value, tuple) or not all(hasattr(s, "options") for s in value):
        _fail(name, "a list of labelers", value)
    for spec in value:
        if not isinstance(spec.options, dict):
            _fail(f"{name}.{spec.name}", "a mapping of options", spec.options)


def columns(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        _fail(name, f"a mapping from {', '.join(COLUMN_NAMES)} to header names", value)
    for key, header in value.items():
        if key not in COLUMN_NAMES:
            _fail(f"{name}.{key}", f"one of {', '.join(COLUMN_NAMES)}", key)
        text(f"{name}.{key}", header)


def folders(name: str, value: Any) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        _fail(name, "a list of folders", value)


def separator(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or len(value) != 1 or value in "\"\n\r"):
        _fail(name, "one character such as ',', ';' or '\\t', or null (detect)", value)


RULES: dict[str, Rule] = {
    "input": text,
    "output": text,
    "name": shard_name,
    "shard_max_samples": integer(1, optional=True),
    "shard_max_bytes": integer(1, optional=True),
    "max_image_side": integer(8, 1_000_000, optional=True),
    "image_format": choice(IMAGE_FORMATS),
    "jpeg_quality": integer(1, 100),
    "max_pixels": integer(1),
    "manifest_encoding": encoding,
    "labelers": labelers,
    "harmonize": mapping,
    "aggregate": mapping,
    "batch_size": integer(1, 65_536),
    "load_threads": integer(1, 256),
    "fetch_threads": integer(1, 1024),
    "columns": columns,
    "sep": separator,
    "fetch_retries": integer(0, 100),
    "fetch_timeout": positive_number,
    "user_agent": optional_text,
    "allow_roots": folders,
    "max_file_bytes": integer(1),
}
