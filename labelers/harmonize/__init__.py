"""Harmonize free-text label names onto one ontology: lexical, crosswalk, embeddings, an LLM.

`map_names(names, ontology, llm="none") -> {name: (label, ...)}` is the one call for gold
columns and model class names; `Harmonizer(ontology, llm=..., cache_dir=...).map(strings)`
returns one audited `Decision` per distinct string, and `describe()` is what run.json records.
"""

from labelmill.labelers.harmonize.cascade import Harmonizer
from labelmill.labelers.harmonize.decision import METHODS, Decision, Thresholds
from labelmill.labelers.harmonize.names import map_names

__all__ = ["METHODS", "Decision", "Harmonizer", "Thresholds", "map_names"]
