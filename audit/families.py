"""Label families: findings, image-model classes and source labels are different things and are
counted apart (an ImageNet class is not a finding, a raw manifest string is neither).

Findings are the build's ontology labels and whatever a report miner votes on; image-model
classes are the labels of sources that run.json describes with a class list; everything else a
source votes on (raw, unharmonized strings) is a source label. A label is in one family only.
"""

from __future__ import annotations

from typing import Any

from labelmill.audit.gold_names import build_ontology
from labelmill.audit.votes import FINAL
from labelmill.schemas.ontology import OntologyError, load_ontology

FINDINGS, IMAGE, SOURCE = "findings", "image-model classes", "source labels"
ORDER = (FINDINGS, IMAGE, SOURCE)


def image_sources(run: dict[str, Any]) -> set[str]:
    return {
        str(x.get("source"))
        for x in run.get("labelers") or []
        if isinstance(x, dict) and isinstance(x.get("classes"), list | int)
    }


def ontology_labels(run: dict[str, Any]) -> set[str]:
    name, _ = build_ontology(run)
    if name is None:
        return set()
    try:
        return set(load_ontology(name).labels)
    except OntologyError:
        return set()


def families(run: dict[str, Any], distribution: dict[str, Any], mined: set[str]) -> dict[str, Any]:
    """label -> family, the distinct label count per family, and each source's family counts."""
    sources = distribution["sources"]
    findings = ontology_labels(run)
    images = image_sources(run)
    for name in mined:
        findings.update(sources.get(name, {}).get("labels", {}))
    family: dict[str, str] = {}
    for name, source in sources.items():
        for label in source["labels"]:
            if label in findings:
                family[label] = FINDINGS
            elif name in images:
                family.setdefault(label, IMAGE)
            elif name != FINAL:
                family.setdefault(label, SOURCE)
    for label in sources.get(FINAL, {}).get("labels", {}):
        family.setdefault(label, FINDINGS if label in findings else SOURCE)
    counts = {f: sum(v == f for v in family.values()) for f in ORDER}
    per_source = {
        name: {f: sum(family.get(k) == f for k in source["labels"]) for f in ORDER}
        for name, source in sources.items()
    }
    return {"counts": counts, "per_source": per_source, "family": dict(sorted(family.items()))}
