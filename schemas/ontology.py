"""The ontology schema: the label set that report mining, harmonization and aggregation share.

Ontologies are data (YAML). Built-in ones live in `labelmill/ontologies/NAME.yaml`; users pass a
path to their own. Loading validates the file and names the field that is wrong.

```yaml
name: chestxray14
version: 1
labels:
  - name: Effusion
    description: fluid in the pleural space
    codes: {mesh: "D010996"}
    synonyms: [pleural effusion, effusions]   # phrases that mean the label
    abbreviations: [eff]                      # short forms, matched as words
    exclusions: [pericardial effusion]        # look like it but are not
    normal: [costophrenic angles are clear]   # statements that the label is absent
    not: [loculated pericardial fluid]        # harmonization: names that are not this label
language: en                                  # the language of the phrases above (default en)
languages:                                    # the same fields in other languages, per label
  es:
    Effusion: {synonyms: [derrame pleural], patterns: ['derram\\w*']}
```

Harmonization also reads the top-level `families` and `harmonize` keys; see
`labelmill/schemas/ontology_harmonize.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from labelmill.schemas.ontology_harmonize import (
    NOT_FIELD,
    Family,
    parse_families,
    parse_harmonize_options,
)

_PHRASE_FIELDS = ("synonyms", "abbreviations", "exclusions", "normal")
_PATTERN_FIELDS = ("patterns", "exclusion_patterns", "normal_patterns")
_LIST_FIELDS = (*_PHRASE_FIELDS, *_PATTERN_FIELDS)
_KNOWN_FIELDS = {"name", "description", "codes", NOT_FIELD, *_LIST_FIELDS}
_KNOWN_OPTIONS = {"ignore_sections", "no_finding"}
TABLES = frozenset({"crosswalk"})  # data files beside the ontologies that are not ontologies
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")


class OntologyError(ValueError):
    """An ontology file that does not follow the schema; the message names the field."""


@dataclass(frozen=True)
class Concept:
    """One label of an ontology with the phrases that mention it, exclude it or deny it."""

    name: str
    description: str = ""
    codes: dict[str, str] = field(default_factory=dict)
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    normal: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    exclusion_patterns: tuple[str, ...] = ()
    normal_patterns: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()  # YAML `not:`: names that look like the label but are not


@dataclass(frozen=True)
class Ontology:
    """A named, versioned list of concepts; `hash` changes whenever any of its content does."""

    name: str
    version: int
    concepts: tuple[Concept, ...]
    options: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    vocabularies: dict[str, tuple[Concept, ...]] = field(default_factory=dict)
    families: tuple[Family, ...] = ()
    harmonize: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [c.name for c in self.concepts]

    def concept(self, name: str) -> Concept:
        for c in self.concepts:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def languages(self) -> list[str]:
        """The languages this ontology has phrases in, its own first."""
        return [self.language, *sorted(set(self.vocabularies) - {self.language})]

    def vocabulary(self, language: str | None = None) -> tuple[Concept, ...]:
        """The concepts with their phrases in `language` (default: the ontology's own)."""
        if language is None or language == self.language:
            return self.concepts
        if language not in self.vocabularies:
            raise OntologyError(
                f"ontology {self.name!r} has no {language!r} vocabulary; it has {self.languages}"
            )
        return self.vocabularies[language]

    @property
    def hash(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def builtin_names() -> list[str]:
    """Names of the ontologies shipped with labelmill."""
    files = resources.files("labelmill.ontologies").iterdir()
    names = (f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))
    return sorted(n for n in names if n not in TABLES)


def load_ontology(name_or_path: str | Path) -> Ontology:
    """Load a built-in ontology by name, or a user's YAML file by path."""
    text_path = Path(name_or_path)
    if str(name_or_path) in builtin_names():
        resource = resources.files("labelmill.ontologies") / f"{name_or_path}.yaml"
        return parse_ontology(yaml.safe_load(resource.read_text("utf-8")), str(name_or_path))
    if not text_path.is_file():
        known = ", ".join(builtin_names())
        raise OntologyError(f"ontology {name_or_path!r} is neither a built-in ({known}) nor a file")
    try:
        data = yaml.safe_load(text_path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise OntologyError(f"{text_path}: not valid YAML: {exc}") from exc
    return parse_ontology(data, str(text_path))


def parse_ontology(data: Any, origin: str = "<ontology>") -> Ontology:
    """Validate a parsed YAML document and build the `Ontology`; errors name the bad field."""
    if not isinstance(data, dict):
        raise OntologyError(f"{origin}: the top level must be a mapping with 'name' and 'labels'")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise OntologyError(f"{origin}: 'name' must be a non-empty string")
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise OntologyError(f"{origin}: 'version' must be an integer")
    raw_labels = data.get("labels")
    if not isinstance(raw_labels, list) or not raw_labels:
        raise OntologyError(f"{origin}: 'labels' must be a non-empty list")
    concepts: list[Concept] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw_labels):
        where = f"{origin}: labels[{i}]"
        if not isinstance(entry, dict):
            raise OntologyError(f"{where} must be a mapping with at least 'name'")
        unknown = set(entry) - _KNOWN_FIELDS
        if unknown:
            raise OntologyError(f"{where}: unknown field(s) {sorted(unknown)}")
        label = entry.get("name")
        if not isinstance(label, str) or not label.strip():
            raise OntologyError(f"{where}: 'name' must be a non-empty string")
        if label in seen:
            raise OntologyError(f"{where}: duplicate label name {label!r}")
        seen.add(label)
        lists = _phrase_lists(entry, f"{where} ({label})")
        negatives = entry.get(NOT_FIELD) or []
        if not isinstance(negatives, list) or not all(isinstance(v, str) and v for v in negatives):
            raise OntologyError(f"{where} ({label}): 'not' must be a list of strings")
        codes = entry.get("codes") or {}
        if not isinstance(codes, dict):
            raise OntologyError(f"{where} ({label}): 'codes' must be a mapping")
        concepts.append(
            Concept(
                name=label,
                description=str(entry.get("description") or ""),
                codes={str(k): str(v) for k, v in codes.items()},
                negatives=tuple(negatives),
                **lists,
            )
        )
    raw_options = data.get("options")
    options = _parse_options({} if raw_options is None else raw_options, seen, origin)
    language = data.get("language", "en")
    if not isinstance(language, str) or not _LANGUAGE_CODE.fullmatch(language):
        raise OntologyError(f"{origin}: 'language' must be a language code such as 'en'")
    vocabularies = _parse_languages(data.get("languages") or {}, tuple(concepts), origin)
    try:
        families = parse_families(data.get("families"), seen, origin)
        harmonize = parse_harmonize_options(data.get("harmonize"), origin)
    except ValueError as exc:
        raise OntologyError(str(exc)) from exc
    return Ontology(
        name=name,
        version=version,
        concepts=tuple(concepts),
        options=options,
        language=language,
        vocabularies=vocabularies,
        families=families,
        harmonize=harmonize,
    )


def _phrase_lists(entry: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """The phrase and pattern lists of one label entry, validated (patterns compiled)."""
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_FIELDS:
        value = entry.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise OntologyError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    for key in _PATTERN_FIELDS:
        for pattern in lists[key]:
            _check_pattern(pattern, f"{where}: {key!r}")
    return lists


def _parse_languages(
    languages: Any, concepts: tuple[Concept, ...], origin: str
) -> dict[str, tuple[Concept, ...]]:
    """`languages: {code: {label: {synonyms: ..., patterns: ...}}}`: phrases in other languages.

    Every label exists in every language (with no phrases where none are given), so that a
    report in any language yields the same label set.
    """
    if not isinstance(languages, dict):
        raise OntologyError(f"{origin}: 'languages' must map language codes to label phrases")
    names = {c.name for c in concepts}
    vocabularies: dict[str, tuple[Concept, ...]] = {}
    for code, entries in languages.items():
        where = f"{origin}: languages.{code}"
        if not isinstance(code, str) or not _LANGUAGE_CODE.fullmatch(code):
            raise OntologyError(f"{where}: not a language code such as 'es'")
        if not isinstance(entries, dict):
            raise OntologyError(f"{where} must map label names to their phrases")
        unknown = set(entries) - names
        if unknown:
            raise OntologyError(f"{where}: unknown label(s) {sorted(unknown)}")
        translated = []
        for concept in concepts:
            entry = entries.get(concept.name) or {}
            if not isinstance(entry, dict) or set(entry) - set(_LIST_FIELDS):
                raise OntologyError(
                    f"{where}.{concept.name}: a mapping of {', '.join(_LIST_FIELDS)}"
                )
            lists = _phrase_lists(entry, f"{where}.{concept.name}")
            translated.append(replace(concept, **lists))
        vocabularies[code] = tuple(translated)
    return vocabularies


def _check_pattern(pattern: str, where: str) -> None:
    """Compile a pattern at load, so that a typo names its field instead of failing mid-run."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise OntologyError(f"{where}: invalid regular expression {pattern!r}: {exc}") from exc


def _parse_options(options: Any, labels: set[str], origin: str) -> dict[str, Any]:
    """Validate the ontology-level options; unknown keys are errors so that typos do not pass."""
    if not isinstance(options, dict):
        raise OntologyError(f"{origin}: 'options' must be a mapping")
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise OntologyError(
            f"{origin}: unknown option(s) {sorted(unknown)}; known: {sorted(_KNOWN_OPTIONS)}"
        )
    sections = options.get("ignore_sections")
    if sections is not None and (
        not isinstance(sections, list) or not all(isinstance(v, str) for v in sections)
    ):
        raise OntologyError(f"{origin}: options.ignore_sections must be a list of section names")
    rule = options.get("no_finding")
    if rule is not None:
        if not isinstance(rule, dict) or not isinstance(rule.get("label"), str):
            raise OntologyError(f"{origin}: options.no_finding must be a mapping with 'label'")
        ignore = rule.get("ignore") or []
        if not isinstance(ignore, list):
            raise OntologyError(f"{origin}: options.no_finding.ignore must be a list of labels")
        others = rule.get("other_findings") or {}
        if not isinstance(others, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) and p for p in v)
            for v in others.values()
        ):
            raise OntologyError(
                f"{origin}: options.no_finding.other_findings must map language codes to patterns"
            )
        for code, patterns in others.items():
            for pattern in patterns:
                _check_pattern(pattern, f"{origin}: options.no_finding.other_findings.{code}")
        missing = [v for v in [rule["label"], *ignore] if v not in labels]
        if missing:
            raise OntologyError(f"{origin}: options.no_finding names unknown label(s) {missing}")
    return dict(options)
