"""`map_names`: one call that maps a list of label names onto an ontology with the cascade.

For every place outside a build that meets foreign label names: the audit's gold columns
("effusion", "PTX"), an image model's class names, a user's spreadsheet. Harmonizers are kept
per (ontology, llm, cache) for the life of the process, so repeated calls pay the model load once
and each name once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from labelmill.labelers.harmonize.cascade import Harmonizer
from labelmill.schemas.ontology import Ontology


@lru_cache(maxsize=16)
def _harmonizer(ontology: str, llm: str, cache_dir: str | None) -> Harmonizer:
    return Harmonizer(ontology, llm=llm, cache_dir=cache_dir)


def map_names(
    names: Iterable[str],
    ontology: str | Path | Ontology,
    llm: str = "none",
    cache_dir: str | Path | None = None,
) -> dict[str, tuple[str, ...]]:
    """Each distinct name -> the ontology labels it means (several for "hydropneumothorax",
    none when the cascade abstains: negated, outside the ontology, or not sure).

    `ontology` is a built-in name, a YAML path or a loaded `Ontology`; the decisions behind the
    answer (method, score, reason) are `Harmonizer(...).map(names)`.
    """
    if isinstance(ontology, Ontology):
        harmonizer = Harmonizer(ontology, llm=llm, cache_dir=cache_dir)
    else:
        harmonizer = _harmonizer(str(ontology), llm, None if cache_dir is None else str(cache_dir))
    return {raw: d.labels for raw, d in harmonizer.map(names).items()}
