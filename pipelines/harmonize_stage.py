"""Harmonize a build's source labels once, in the launcher, before any worker starts.

The distinct raw strings of the manifest's `labels` column are mapped onto the ontology by the
cascade (cached on disk, so a rerun costs nothing), each onto a list of labels (several for
"hydropneumothorax", none when unmapped); the mapping reaches the `manifest_labels`
labeler of every worker as a Beam side input, and the decisions (method, score, model, reason)
are kept in `_work/harmonize.json` for run.json and the audit.

An `image_model` labeler with an `ontology` has its model's class names mapped in the same step
(`class_maps`), once per build, so every worker labels with one mapping and the mapping is part
of every shard's fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labelmill.fileio import default_cache_dir, join, write_json
from labelmill.schemas.config import BuildConfig

# Labeler name -> options known only once the whole input has been read (a Beam side input).
RunOptions = dict[str, dict[str, Any]]


def needs_harmonizing(config: BuildConfig) -> bool:
    """Whether the build has a Harmonize step: source labels or image classes to map."""
    return bool(config.harmonize) or bool(_image_specs(config))


def _image_specs(config: BuildConfig) -> list[tuple[str, str]]:
    """(model, ontology) of every image_model labeler that maps its classes onto an ontology."""
    return [
        (str(spec.options.get("model", "imagenet-demo")), str(spec.options["ontology"]))
        for spec in config.labelers
        if spec.name == "image_model" and spec.options.get("ontology")
    ]


def harmonize_labels(config: BuildConfig, strings: Iterable[str], work: str) -> RunOptions:
    """The harmonized mappings as run-time options: `manifest_labels` gets the source labels',
    `image_model` the class maps ({} when nothing is asked); decisions go to harmonize.json."""
    from labelmill.labelers.harmonize import Harmonizer

    options = dict(config.harmonize or {})
    llm = options.pop("llm", "none")
    cache_dir = options.pop("cache_dir", None) or default_cache_dir("harmonize")
    ontology = options.pop("ontology", None)
    if options:
        raise ValueError(f"harmonize: unknown option(s) {sorted(options)}")
    harmonizers: dict[str, Harmonizer] = {}  # one per ontology: its phrases embedded once

    def harmonizer_for(name: str) -> Harmonizer:
        if name not in harmonizers:
            harmonizers[name] = Harmonizer(name, llm=llm, cache_dir=cache_dir)
        return harmonizers[name]

    run: RunOptions = {}
    doc: dict[str, Any] = {}
    if ontology:
        harmonizer = harmonizer_for(ontology)
        distinct = sorted(set(strings))
        decisions = harmonizer.map(distinct)
        doc["harmonizer"] = harmonizer.describe()
        doc["decisions"] = [decisions[s].to_json() for s in distinct]
        run["manifest_labels"] = {"mapping": {r: list(d.labels) for r, d in decisions.items()}}
    class_maps: dict[str, dict[str, list[str]]] = {}
    images = _image_specs(config)
    if images:  # torch only for builds with an image model
        from labelmill.labelers.images.labeler import class_map_key
        from labelmill.labelers.images.specs import load_model
    for model, target in images:
        harmonizer = harmonizer_for(target)
        found = harmonizer.map(load_model(model).classes)
        key = class_map_key(model, target)
        class_maps[key] = {raw: list(d.labels) for raw, d in found.items()}
        doc.setdefault("class_maps", {})[key] = {
            "harmonizer": harmonizer.describe(),
            "decisions": [d.to_json() for d in found.values()],
        }
    if class_maps:
        run["image_model"] = {"class_maps": class_maps}
    if doc:
        write_json(join(work, "harmonize.json"), doc)
    return run
