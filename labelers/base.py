"""The one interface every labeler implements, and the registry that names them.

A labeler is set up once per worker (models, caches), then labels batches of samples and returns
one `LabelRecord` per sample, in order. Adding a labeler means one module, one line in
`REGISTRY` and its test; the build pipeline never names a labeler itself.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from labelmill.extras import as_missing_extra
from labelmill.schemas.records import LabelRecord, Sample

# name -> "module:Class", imported lazily: a build without an image model never imports torch.
REGISTRY: dict[str, str] = {
    "manifest_labels": "labelmill.labelers.manifest_labels:ManifestLabels",
    "reports": "labelmill.labelers.reports.labeler:ReportLabeler",
    "image_model": "labelmill.labelers.images.labeler:ImageModelLabeler",
}


class Labeler(ABC):
    """Base class: construct with plain options (picklable), `setup()` on the worker, then label.

    `source` names the records this labeler produces (for example "reports/chestxray14").
    `needs_pixels` asks the loader to keep the decoded RGB array on each sample.
    """

    source: str = ""
    needs_pixels: bool = False

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load models and caches; called once per worker before the first batch."""

    @abstractmethod
    def label_batch(self, samples: Sequence[Sample]) -> list[LabelRecord]:
        """Return one record per sample, in the same order."""

    def describe(self) -> dict[str, Any]:
        """What decides this labeler's output (model id, ontology hash, versions), for run.json."""
        return {"source": self.source}


def create(name: str, options: dict[str, Any] | None = None) -> Labeler:
    """Instantiate the registered labeler `name` with its options from the build config."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"unknown labeler {name!r}; known labelers: {known}")
    module_name, class_name = REGISTRY[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise as_missing_extra(exc, f"the {name} labeler") from exc
    cls = getattr(module, class_name)
    return cls(**(options or {}))
