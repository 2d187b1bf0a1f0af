"""Languages as data: section headers and trigger vocabulary per language, one YAML file each.

`lang/en.yaml` and `lang/es.yaml` ship with labelmill (`locations`, the words that place a
finding on a side or zone, are optional); a new language is a new file with the same
fields (shipped in `lang/`, or passed by path), not new code. Loading validates every field and
compiles every pattern, so a typo names its file and field instead of failing mid-build.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from labelmill.schemas.ontology import OntologyError

NEGATED, UNCERTAIN, RESOLVED, HISTORICAL = "negated", "uncertain", "resolved", "historical"
PROBABLE, HYPOTHETICAL = "probable", "hypothetical"
PSEUDO, TERMINATOR = "pseudo", "terminator"
FORWARD, BACKWARD, BOTH = "forward", "backward", "both"
KINDS = (NEGATED, UNCERTAIN, RESOLVED, HISTORICAL, PROBABLE, HYPOTHETICAL, PSEUDO, TERMINATOR)
DIRECTIONS = (FORWARD, BACKWARD, BOTH)
DEFAULT_LANGUAGE = "en"
_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")


class LanguageError(OntologyError):
    """A language code without a file, or a language file that does not follow the schema.

    An `OntologyError`, so that commands report a bad `--language` like a bad `--ontology`.
    """


@dataclass(frozen=True)
class TriggerRule:
    """A family of trigger patterns sharing an effect, a direction and a window in words.

    `weak` uncertainty ("to suggest") gives way to a negation that reaches the same finding.
    """

    kind: str
    direction: str
    patterns: tuple[str, ...]
    window: int = 12
    weak: bool = False


@dataclass(frozen=True)
class Language:
    """Everything the miner needs to read reports in one language."""

    code: str
    sections: dict[str, tuple[str, ...]]
    triggers: tuple[TriggerRule, ...]
    finding_openers: tuple[str, ...] = ()
    fold_accents: bool = False  # match "neumotórax" and PadChest's "neumotorax" alike
    locations: tuple[LocationRule, ...] = ()
    location_breaks: tuple[str, ...] = ()  # words a location does not reach across ("and")


@dataclass(frozen=True)
class LocationRule:
    """Patterns that place a finding: `axis` (side, zone) takes `value` (left, lower)."""

    axis: str
    value: str
    patterns: tuple[str, ...]


def available_languages() -> list[str]:
    """Codes of the languages shipped with labelmill."""
    files = (resources.files("labelmill.labelers.reports") / "lang").iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


@lru_cache(maxsize=16)
def load_language(name_or_path: str) -> Language:
    """A shipped language by code ("en", "es"), or a language file by path, validated."""
    if isinstance(name_or_path, str) and _CODE.fullmatch(name_or_path):
        if name_or_path in available_languages():
            resource = (
                resources.files("labelmill.labelers.reports") / "lang" / f"{name_or_path}.yaml"
            )
            text, origin = resource.read_text("utf-8"), f"lang/{name_or_path}.yaml"
            return parse_language(yaml.safe_load(text), origin)
    path = Path(str(name_or_path))
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        known = ", ".join(available_languages())
        raise LanguageError(
            f"unknown report language {name_or_path!r}; known: {known}, or a language file"
        )
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LanguageError(f"{path}: not a readable YAML file: {exc}") from exc
    return parse_language(data, str(path))


def parse_language(data: Any, origin: str) -> Language:
    """Validate a parsed language file; errors name the file and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise LanguageError(f"{origin}: a mapping with 'language', 'sections' and 'triggers'")
    sections = data.get("sections")
    if not isinstance(sections, dict) or not sections:
        raise LanguageError(f"{origin}: 'sections' must map section names to header spellings")
    parsed_sections = {
        str(name): _strings(spellings, f"{origin}: sections.{name}")
        for name, spellings in sections.items()
    }
    openers = _strings(data.get("finding_openers") or [], f"{origin}: finding_openers")
    for pattern in openers:
        _check(pattern, f"{origin}: finding_openers")
    raw_triggers = data.get("triggers")
    if not isinstance(raw_triggers, list) or not raw_triggers:
        raise LanguageError(f"{origin}: 'triggers' must be a non-empty list")
    triggers = tuple(_trigger(t, f"{origin}: triggers[{i}]") for i, t in enumerate(raw_triggers))
    fold = data.get("fold_accents", False)
    if not isinstance(fold, bool):
        raise LanguageError(f"{origin}: 'fold_accents' must be true or false")
    locations = _locations(data.get("locations") or {}, f"{origin}: locations")
    breaks = _strings(data.get("location_breaks") or [], f"{origin}: location_breaks")
    for pattern in breaks:
        _check(pattern, f"{origin}: location_breaks")
    return Language(data["language"], parsed_sections, triggers, openers, fold, locations, breaks)


def _locations(value: Any, where: str) -> tuple[LocationRule, ...]:
    """`locations: {axis: {value: [patterns]}}`, validated."""
    if not isinstance(value, dict):
        raise LanguageError(f"{where} must map axes (side, zone) to values and their patterns")
    rules = []
    for axis, values in value.items():
        if not isinstance(values, dict) or not values:
            raise LanguageError(f"{where}.{axis} must map values (left, lower) to patterns")
        for name, patterns in values.items():
            found = _strings(patterns, f"{where}.{axis}.{name}")
            for pattern in found:
                _check(pattern, f"{where}.{axis}.{name}")
            rules.append(LocationRule(str(axis), str(name), found))
    return tuple(rules)


def _base_letter(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[0]
    return base if base.isascii() else ch


# Latin letters with diacritics -> the bare letter, one character for one, so offsets hold.
ACCENTS = str.maketrans({chr(c): _base_letter(chr(c)) for c in range(0xC0, 0x250)})


def _trigger(entry: Any, where: str) -> TriggerRule:
    if not isinstance(entry, dict):
        raise LanguageError(f"{where} must be a mapping with kind, direction and patterns")
    unknown = set(entry) - {"kind", "direction", "window", "weak", "patterns"}
    if unknown:
        raise LanguageError(f"{where}: unknown field(s) {sorted(unknown)}")
    kind, direction = entry.get("kind"), entry.get("direction")
    if kind not in KINDS:
        raise LanguageError(f"{where}: 'kind' must be one of {list(KINDS)}, not {kind!r}")
    if direction not in DIRECTIONS:
        raise LanguageError(f"{where}: 'direction' must be one of {list(DIRECTIONS)}")
    window = entry.get("window", 12)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 < window <= 50:
        raise LanguageError(f"{where}: 'window' must be a number of words from 1 to 50")
    weak = entry.get("weak", False)
    if not isinstance(weak, bool):
        raise LanguageError(f"{where}: 'weak' must be true or false")
    patterns = _strings(entry.get("patterns"), f"{where}: patterns")
    if not patterns:
        raise LanguageError(f"{where}: 'patterns' must not be empty")
    for pattern in patterns:
        _check(pattern, f"{where}: patterns")
    return TriggerRule(kind, direction, patterns, window, weak)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LanguageError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _check(pattern: str, where: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise LanguageError(f"{where}: invalid regular expression {pattern!r}: {exc}") from exc
    if compiled.groups:
        raise LanguageError(f"{where}: use (?:...) instead of capturing groups in {pattern!r}")
