"""The cross-ontology table: which label of one ontology a label of another one implies.

One table (`labelmill/ontologies/crosswalk.yaml`) serves harmonization, aggregation and the
audit, so "the same finding" means the same thing everywhere. Each row is one finding:

```yaml
- chestxray14: Effusion            # equivalents: each implies the others, both ways
  chexpert: Pleural Effusion
  padchest: pleural effusion
  narrower:                        # finer labels: imply the row's equivalents, never the reverse
    padchest: [loculated pleural effusion, hydropneumothorax]
```

`translate(source, label, target)` is many-to-many: "hydropneumothorax" is narrower in the
Effusion row and in the Pneumothorax row, so it implies both. A label that no row names at all
has no counterpart anywhere (`covers` says so); one that rows name without the target has no
counterpart there, but may still be placed by other means.

`implied_by()` is the aggregator's view: which labels (of any ontology) each name votes on. An
equivalent carries every vote; a narrower name carries only "present" and "uncertain" ("no
hydropneumothorax" says nothing about an effusion).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from labelmill.schemas.ontology import OntologyError, load_ontology

RESOURCE = "crosswalk.yaml"


@dataclass(frozen=True)
class Row:
    """One finding: its equivalent label per ontology and the narrower labels that imply it."""

    equivalents: dict[str, str]
    narrower: dict[str, tuple[str, ...]]

    def names(self, ontology: str) -> tuple[str, ...]:
        own = self.equivalents.get(ontology)
        return ((own,) if own else ()) + self.narrower.get(ontology, ())


@dataclass(frozen=True)
class Crosswalk:
    rows: tuple[Row, ...]

    @property
    def ontologies(self) -> frozenset[str]:
        return frozenset(o for r in self.rows for o in (*r.equivalents, *r.narrower))

    def covers(self, ontology: str, label: str) -> bool:
        """Whether any row names `label` of `ontology`."""
        return any(label in r.names(ontology) for r in self.rows)

    def translate(self, source: str, label: str, target: str) -> tuple[str, ...]:
        """The labels of `target` that `label` of `source` implies, in table order."""
        found: dict[str, None] = {}
        for row in self.rows:
            if label in row.names(source) and target in row.equivalents:
                found[row.equivalents[target]] = None
        return tuple(found)

    def implied_by(self) -> dict[str, tuple[Implied, ...]]:
        """Each name a row holds -> the row's equivalent labels it votes on (not itself)."""
        out: dict[str, dict[Implied, None]] = {}
        for row in self.rows:
            targets = list(dict.fromkeys(row.equivalents.values()))
            names = [(n, False) for n in row.equivalents.values()]
            names += [(n, True) for found in row.narrower.values() for n in found]
            for name, narrower in names:
                for target in targets:
                    if target != name:
                        out.setdefault(name, {})[Implied(target, narrower)] = None
        return {name: tuple(found) for name, found in out.items()}


@dataclass(frozen=True)
class Implied:
    """A label another name votes on; `narrower` names carry only present and uncertain votes."""

    label: str
    narrower: bool


def parse_crosswalk(data: Any, origin: str = RESOURCE, check: bool = True) -> Crosswalk:
    """Validate the table; with `check`, every name must be a label of its (built-in) ontology."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise OntologyError(f"{origin}: the top level must be a mapping with a 'rows' list")
    rows = []
    for i, entry in enumerate(data["rows"]):
        where = f"{origin}: rows[{i}]"
        if not isinstance(entry, dict):
            raise OntologyError(f"{where} must be a mapping of ontology -> label")
        narrower_raw = entry.get("narrower") or {}
        if not isinstance(narrower_raw, dict):
            raise OntologyError(f"{where}.narrower must be a mapping of ontology -> labels")
        equivalents = {str(k): v for k, v in entry.items() if k != "narrower"}
        if not all(isinstance(v, str) and v for v in equivalents.values()):
            raise OntologyError(f"{where}: each ontology names one label (a string)")
        narrower: dict[str, tuple[str, ...]] = {}
        for ontology, names in narrower_raw.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise OntologyError(f"{where}.narrower.{ontology} must be a list of labels")
            narrower[str(ontology)] = tuple(names)
        rows.append(Row(equivalents, narrower))
    table = Crosswalk(tuple(rows))
    if check:
        for ontology in sorted(table.ontologies):
            labels = set(load_ontology(ontology).labels)
            for i, row in enumerate(table.rows):
                unknown = [n for n in row.names(ontology) if n not in labels]
                if unknown:
                    raise OntologyError(f"{origin}: rows[{i}] names unknown {ontology} {unknown}")
    return table


@lru_cache(maxsize=1)
def load_crosswalk() -> Crosswalk:
    """The table shipped beside the built-in ontologies (validated, loaded once)."""
    text = (resources.files("labelmill.ontologies") / RESOURCE).read_text("utf-8")
    return parse_crosswalk(yaml.safe_load(text))
