"""Reading a YAML file that a user wrote by hand, strictly: no aliases, no repeated keys, a cap
on its size.

`yaml.safe_load` already refuses Python objects, but it expands aliases (a "billion laughs"
document of a few hundred bytes grows to gigabytes) and silently keeps the last of two equal
keys. Both are refused here with the line they are on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 1_000_000


class YamlError(ValueError):
    """A YAML file that is refused; the message names the file and the line."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and duplicate mapping keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "allowed; write the value out"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise YamlError(f"line {key_node.start_mark.line + 1}: a key must be a scalar")
            if key in seen:
                raise YamlError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path) -> Any:
    """Parse the YAML file at `path`; YamlError (one line, naming the file) if it is refused."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_YAML_BYTES:
        raise YamlError(f"{path}: larger than {MAX_YAML_BYTES:,} bytes; not a config file")
    try:
        return yaml.load(data.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 - strict safe
    except UnicodeDecodeError as exc:
        raise YamlError(f"{path}: not UTF-8 text (byte offset {exc.start})") from exc
    except YamlError as exc:
        raise YamlError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(f"{path}: {where}not valid YAML: {problem}") from exc
