"""The ontology fields that only harmonization reads: `not:` entries, pattern families and the
calibrated thresholds.

```yaml
labels:
  - name: Cardiomegaly
    not: [hilar enlargement, cardiac surgery]   # names that look like the label but are not
families:                                       # a class of names that all mean some labels
  - name: radiological patterns
    labels: [Infiltration]
    heads: [pattern, opacity]                   # the family's head nouns
    members: [alveolar, interstitial, reticular, ground glass]  # the words that make a member
harmonize:
  accept: 0.62      # embedding score a match needs (calibrated per ontology)
  margin: 0.03      # lead over the runner-up
  anatomy: [lung, pleura, heart]   # body sites the ontology covers; names elsewhere are refused
```

Parsing raises ValueError naming the field; the ontology loader turns it into OntologyError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOT_FIELD = "not"
_NUMBERS = ("accept", "margin")
_HARMONIZE_KEYS = {*_NUMBERS, "anatomy"}


@dataclass(frozen=True)
class Family:
    """Names made of a head noun and member words only ("reticular interstitial pattern") mean
    `labels`; the family is data in the ontology, not a special case in code."""

    name: str
    labels: tuple[str, ...]
    heads: tuple[str, ...]
    members: tuple[str, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where} must be a non-empty list of strings")
    return tuple(value)


def parse_families(value: Any, labels: set[str], origin: str) -> tuple[Family, ...]:
    """Validate `families`: each names existing labels, its head nouns and its member words."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{origin}: 'families' must be a list")
    families = []
    for i, entry in enumerate(value):
        where = f"{origin}: families[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a mapping with labels, heads and members")
        unknown = set(entry) - {"name", "labels", "heads", "members"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
        names = _strings(entry.get("labels"), f"{where}.labels")
        missing = [n for n in names if n not in labels]
        if missing:
            raise ValueError(f"{where}.labels names unknown label(s) {missing}")
        families.append(
            Family(
                name=str(entry.get("name") or f"family {i}"),
                labels=names,
                heads=_strings(entry.get("heads"), f"{where}.heads"),
                members=_strings(entry.get("members"), f"{where}.members"),
            )
        )
    return tuple(families)


def parse_harmonize_options(value: Any, origin: str) -> dict[str, Any]:
    """Validate the `harmonize` block: thresholds in [0, 1] and a list of anatomy sites."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{origin}: 'harmonize' must be a mapping")
    unknown = set(value) - _HARMONIZE_KEYS
    if unknown:
        raise ValueError(
            f"{origin}: unknown harmonize option(s) {sorted(unknown)}; "
            f"known: {sorted(_HARMONIZE_KEYS)}"
        )
    for key in _NUMBERS:
        number = value.get(key)
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= 1
        ):
            raise ValueError(f"{origin}: harmonize.{key} must be a number between 0 and 1")
    if "anatomy" in value:
        _strings(value["anatomy"], f"{origin}: harmonize.anatomy")
    return dict(value)
