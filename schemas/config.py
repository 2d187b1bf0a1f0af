"""Build configuration: a frozen dataclass, read from YAML and CLI flags, written to run.json.

Everything that decides the bytes of a build lives here, so its hash tells a resumed build
whether it may keep the shards already written. Every value is checked for its type and range
when the config is made, so a wrong value stops the build before any work with one line that
names the option and what it expects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from labelmill.schemas.config_rules import RULES, ConfigError
from labelmill.schemas.yaml_safe import YamlError, load_yaml

DEFAULT_SHARD_SAMPLES = 1000
SHARD_RAMP_START = 8  # without --shard-max-samples, shards grow 8, 16, 32, ... up to 1000
PATH_OPTIONS = ("input", "output")  # resolved against a build.yaml's folder
# How inputs are read, not what is built: changing them keeps a resumable build resumable.
NOT_DECISIVE = (
    "output", "load_threads", "fetch_threads", "fetch_retries", "fetch_timeout", "user_agent"
)

__all__ = ["BuildConfig", "ConfigError", "LabelerSpec", "load_config", "with_labeler"]


@dataclass(frozen=True)
class LabelerSpec:
    """A registered labeler name and its constructor options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildConfig:
    """What a build does. Paths are strings so that they can be URLs (gs://, s3://).

    `shard_max_samples` None means the default: shards of 8, 16, 32, ... samples up to 1000, so
    that a small build still has a shard for each DataLoader worker. `columns` maps the
    manifest's known columns (id, image, report, report_path, labels) to its header names;
    `sep` is the CSV separator (None: detected from the header among `,` `;` and tab).
    """

    input: str
    output: str
    name: str = "shard"
    shard_max_samples: int | None = None
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
    fetch_threads: int = 32  # for rows read over the network, which wait rather than compute
    columns: dict[str, str] = field(default_factory=dict)
    sep: str | None = None
    fetch_retries: int = 3
    fetch_timeout: float = 60.0
    user_agent: str | None = None
    allow_roots: tuple[str, ...] = ()  # folders besides the manifest's that paths may use
    max_file_bytes: int = 256_000_000  # no input file is read past this

    def __post_init__(self) -> None:
        for option in fields(self):
            rule = RULES.get(option.name)
            if rule is not None:
                rule(option.name, getattr(self, option.name))
        object.__setattr__(self, "allow_roots", tuple(self.allow_roots))  # YAML gives a list

    def shard_limit(self, index: int) -> int:
        """The most samples shard `index` may hold."""
        if self.shard_max_samples is not None:
            return self.shard_max_samples
        return min(DEFAULT_SHARD_SAMPLES, SHARD_RAMP_START << min(index, 16))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _labeler_specs(value: Any, base: Path | None) -> tuple[LabelerSpec, ...]:
    if not isinstance(value, list):
        raise ConfigError("labelers: expected a list of names or {name: ..., options...} mappings")
    specs = []
    for item in value:
        if isinstance(item, str):
            specs.append(LabelerSpec(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            options = {k: v for k, v in item.items() if k != "name"}
            specs.append(LabelerSpec(item["name"], _resolve_options(options, base)))
        else:
            raise ConfigError(f"labelers: entry {item!r} needs a 'name'")
    return tuple(specs)


def _resolve(value: Any, base: Path | None) -> Any:
    """A relative local path from a build.yaml, made relative to that file's folder."""
    if base is None or not isinstance(value, str) or not value or "://" in value:
        return value
    return value if Path(value).is_absolute() else str(base / value)


def _resolve_options(options: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """Ontology files named in a build.yaml resolve against its folder (built-ins stay names)."""
    out = dict(options)
    ontology = out.get("ontology")
    if isinstance(ontology, str) and ontology.lower().endswith((".yaml", ".yml")):
        out["ontology"] = _resolve(ontology, base)
    return out


def read_yaml_config(path: str) -> dict[str, Any]:
    """The options of a build.yaml, with its relative paths resolved against its folder."""
    try:
        data = load_yaml(path)
    except YamlError as exc:
        raise ConfigError(str(exc)) from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a build config is a mapping of option: value")
    known = {f.name for f in fields(BuildConfig)}
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown option(s) {unknown}; known: {sorted(known)}")
    base = Path(path).resolve().parent
    for key in PATH_OPTIONS:
        data[key] = _resolve(data.get(key), base)
    for key in ("harmonize", "aggregate"):
        if isinstance(data.get(key), dict):
            data[key] = _resolve_options(data[key], base)
    if "labelers" in data:
        data["labelers"] = _labeler_specs(data["labelers"], base)
    return data


def load_config(path: str | None, **overrides: Any) -> BuildConfig:
    """Read a YAML build config (optional) and apply CLI overrides that are not None.

    Relative paths in the YAML file resolve against its folder; those on the command line
    against the current folder."""
    data = read_yaml_config(path) if path else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    missing = [k for k in ("input", "output") if not data.get(k)]
    if missing:
        raise ConfigError(f"missing required option(s): {', '.join(missing)}")
    return BuildConfig(**data)


def with_labeler(config: BuildConfig, spec: LabelerSpec) -> BuildConfig:
    """Add a labeler (or replace the one of the same name) in a config."""
    others = tuple(s for s in config.labelers if s.name != spec.name)
    return replace(config, labelers=(*others, spec))
