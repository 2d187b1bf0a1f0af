"""Build configuration: a frozen dataclass, read from YAML and CLI flags, written to run.json.

Everything that decides the bytes of a build lives here, so its hash tells a resumed build
whether it may keep the shards already written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

IMAGE_FORMATS = ("keep", "png", "jpeg")


class ConfigError(ValueError):
    """A build config value that is out of range or unknown; the message names the field."""


@dataclass(frozen=True)
class LabelerSpec:
    """A registered labeler name and its constructor options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildConfig:
    """What a build does. Paths are strings so that they can be URLs (gs://, s3://)."""

    input: str
    output: str
    name: str = "shard"
    shard_max_samples: int = 1000
    shard_max_bytes: int | None = 1_000_000_000
    max_image_side: int | None = None
    image_format: str = "keep"
    jpeg_quality: int = 95
    max_pixels: int = 100_000_000
    manifest_encoding: str = "utf-8"
    labelers: tuple[LabelerSpec, ...] = (LabelerSpec("manifest_labels"),)
    harmonize: dict[str, Any] | None = None
    aggregate: dict[str, Any] | None = None
    batch_size: int = 32
    load_threads: int = 4
    allow_roots: tuple[str, ...] = ()
    max_file_bytes: int = 256_000_000

    def __post_init__(self) -> None:
        if isinstance(self.allow_roots, str) or not isinstance(self.allow_roots, list | tuple):
            raise ConfigError("allow_roots must be a list of folders")
        object.__setattr__(self, "allow_roots", tuple(str(r) for r in self.allow_roots))
        if isinstance(self.max_file_bytes, bool) or not isinstance(self.max_file_bytes, int):
            raise ConfigError("max_file_bytes must be a whole number of bytes")
        if self.max_file_bytes < 1:
            raise ConfigError("max_file_bytes must be positive")
        if self.shard_max_samples < 1:
            raise ConfigError("shard_max_samples must be at least 1")
        if self.shard_max_bytes is not None and self.shard_max_bytes < 1:
            raise ConfigError("shard_max_bytes must be positive")
        if self.image_format not in IMAGE_FORMATS:
            raise ConfigError(f"image_format must be one of {', '.join(IMAGE_FORMATS)}")
        if self.max_image_side is not None and self.max_image_side < 8:
            raise ConfigError("max_image_side must be at least 8 pixels")
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError("name must be letters, digits, '-' or '_'")
        if self.batch_size < 1 or self.load_threads < 1:
            raise ConfigError("batch_size and load_threads must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self, input_sha256: str) -> str:
        """Hash of everything that decides the output bytes (not where the output goes)."""
        decisive = {k: v for k, v in self.to_json().items() if k != "output"}
        decisive["input_sha256"] = input_sha256
        payload = json.dumps(decisive, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


def _labeler_specs(value: Any) -> tuple[LabelerSpec, ...]:
    if not isinstance(value, list):
        raise ConfigError("labelers must be a list of names or {name: ..., options...} mappings")
    specs = []
    for item in value:
        if isinstance(item, str):
            specs.append(LabelerSpec(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            options = {k: v for k, v in item.items() if k != "name"}
            specs.append(LabelerSpec(item["name"], options))
        else:
            raise ConfigError(f"labelers: entry {item!r} needs a 'name'")
    return tuple(specs)


def load_config(path: str | None, **overrides: Any) -> BuildConfig:
    """Read a YAML build config (optional) and apply CLI overrides that are not None."""
    data: dict[str, Any] = {}
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read build config: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a build config is a mapping of option: value")
    known = {f.name for f in fields(BuildConfig)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
    if "labelers" in data:
        data["labelers"] = _labeler_specs(data["labelers"])
    data.update({k: v for k, v in overrides.items() if v is not None})
    missing = [k for k in ("input", "output") if not data.get(k)]
    if missing:
        raise ConfigError(f"missing required option(s): {', '.join(missing)}")
    return BuildConfig(**data)


def with_labeler(config: BuildConfig, spec: LabelerSpec) -> BuildConfig:
    """Add a labeler (or replace the one of the same name) in a config."""
    others = tuple(s for s in config.labelers if s.name != spec.name)
    return replace(config, labelers=(*others, spec))
