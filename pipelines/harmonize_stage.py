"""Harmonize a build's source labels once, in the launcher, before any worker starts.

The distinct raw strings of the manifest's `labels` column are mapped onto the ontology by the
cascade (cached on disk, so a rerun costs nothing), each onto a list of labels (several for
"hydropneumothorax", none when unmapped); the mapping reaches the `manifest_labels`
labeler of every worker as a Beam side input, and the decisions (method, score, model, reason)
are kept in `_work/harmonize.json` for run.json and the audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labelmill.fileio import default_cache_dir, join, write_json
from labelmill.schemas.config import BuildConfig

# Labeler name -> options known only once the whole input has been read (a Beam side input).
RunOptions = dict[str, dict[str, Any]]


def harmonize_labels(config: BuildConfig, strings: Iterable[str], work: str) -> RunOptions:
    """The harmonized mapping as run-time options for `manifest_labels` ({} when not asked);
    the decisions go to `work`/harmonize.json."""
    if not config.harmonize:
        return {}
    from labelmill.labelers.harmonize import Harmonizer

    options = dict(config.harmonize)
    harmonizer = Harmonizer(
        options.pop("ontology"),
        llm=options.pop("llm", "none"),
        cache_dir=options.pop("cache_dir", None) or default_cache_dir("harmonize"),
    )
    if options:
        raise ValueError(f"harmonize: unknown option(s) {sorted(options)}")
    distinct = sorted(set(strings))
    decisions = harmonizer.map(distinct)
    write_json(
        join(work, "harmonize.json"),
        {
            "harmonizer": harmonizer.describe(),
            "decisions": [decisions[s].to_json() for s in distinct],
        },
    )
    mapping = {raw: list(d.labels) for raw, d in decisions.items()}
    return {"manifest_labels": {"mapping": mapping}}
