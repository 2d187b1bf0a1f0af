"""Gold label names through the build's harmonizer, so that a gold column named `effusion` or
`R pleural eff.` scores the build's `Effusion` instead of matching nothing.

The ontology and LLM setting are the build's (run.json: `harmonize`, else the aggregator's or
the report miner's ontology). A name that is already an ontology label is kept as is; others go
through the same cascade as the build's source labels (`map_names`, the one call into it).
Names nothing maps keep their own name (they may still be a raw source label or a model class),
and two names that land on one label keep only the first: the table says which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from labelmill.audit.gold import Gold
from labelmill.fileio import default_cache_dir
from labelmill.schemas.ontology import OntologyError, load_ontology


def map_names(names: Sequence[str], ontology: str, llm: str = "none") -> dict[str, dict[str, Any]]:
    """Map label names onto `ontology` with the build's harmonizer cascade (cached on disk):
    name -> {label (None when unmapped), method, score, reason}."""
    from labelmill.labelers.harmonize import Harmonizer

    harmonizer = Harmonizer(ontology, llm=llm, cache_dir=default_cache_dir("harmonize"))
    return {raw: d.to_json() for raw, d in harmonizer.map(names).items()}


def build_ontology(run: dict[str, Any]) -> tuple[str | None, str]:
    """The ontology (and LLM setting) the build mapped its labels with; (None, "none") if none."""
    config = run.get("config") or {}
    harmonize = config.get("harmonize") or {}
    if harmonize.get("ontology"):
        return str(harmonize["ontology"]), str(harmonize.get("llm", "none"))
    aggregate = config.get("aggregate") or {}
    if aggregate.get("ontology"):
        return str(aggregate["ontology"]), "none"
    for spec in config.get("labelers") or []:
        options = spec.get("options") or {} if isinstance(spec, dict) else {}
        if options.get("ontology"):
            return str(options["ontology"]), "none"
    return None, "none"


def harmonize_gold(gold: Gold, run: dict[str, Any]) -> tuple[Gold, dict[str, Any]]:
    """`gold` with its label names mapped onto the build's ontology, and the mapping table."""
    ontology, llm = build_ontology(run)
    note = ""
    labels: list[str] = []
    if ontology is None:
        note = "the build names no ontology: gold names are compared as they are"
    else:
        try:
            labels = load_ontology(ontology).labels
        except OntologyError as exc:
            note = f"the build's ontology cannot be loaded here ({exc}): names compared as they are"
    rest = [name for name in gold.labels if name not in labels]
    decided = map_names(rest, ontology, llm) if rest and labels and ontology else {}
    rows, target, taken = [], {}, {}
    for name in gold.labels:
        if name in labels:
            d: dict[str, Any] = {"label": name, "method": "exact", "score": 1.0, "reason": ""}
        else:
            d = decided.get(name) or {
                "label": None if labels else name,
                "method": "unmapped" if labels else "as is",
                "score": None,
            }
        label, reason = d.get("label"), str(d.get("reason") or note)
        if label is not None and label in taken:
            label, reason = None, f"{d['label']} already comes from column {taken[d['label']]!r}"
            target[name] = None  # dropped: one gold column per label
        else:
            target[name] = label if label is not None else name
            if label is not None:
                taken.setdefault(label, name)
        rows.append(
            {
                "column": name,
                "label": label,
                "method": d.get("method"),
                "score": d.get("score"),
                "reason": reason,
                "compared_as": target[name],
            }
        )
    renamed = {
        sample: {target[k]: v for k, v in values.items() if target.get(k) is not None}
        for sample, values in gold.rows.items()
    }
    kept = tuple(dict.fromkeys(t for t in target.values() if t is not None))
    return replace(gold, labels=kept, rows=renamed), {
        "ontology": ontology,
        "llm": llm if ontology else None,
        "note": note,
        "columns": rows,
        "unmatched": [r["column"] for r in rows if r["label"] is None],
    }
