"""Harmonize free-text label names onto one ontology: lexical, embeddings, then an optional LLM.

`Harmonizer(ontology, llm="none"|"local"|URL, cache_dir=...).map(strings)` returns one audited
`Decision` per distinct string; `describe()` is what run.json records about the mapping.
"""

from labelmill.labelers.harmonize.cascade import METHODS, Decision, Harmonizer, Thresholds

__all__ = ["METHODS", "Decision", "Harmonizer", "Thresholds"]
