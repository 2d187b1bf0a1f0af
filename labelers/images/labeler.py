"""The image-model labeler: global multi-labels plus a dense top-k label map per image.

Built from plain options so that Beam can pickle it; the model is loaded in `setup()`, once
per worker process and device: a Dataflow VM runs one SDK process per core (or several DoFn
threads in one), and `Shared` hands each of them the same loaded model, not one copy each.
Batches are grouped by model input size (see preprocess.py) and cut to `batch_size`; on a GPU
the forward pass runs under bf16 autocast with channels_last inputs.

With `ontology`, the model's class names are mapped onto that ontology by the harmonizer's
cascade (a build does it once, in its Harmonize step, and hands every worker the mapping), and
the global labels and scores are the ontology's: a label's score is the summed softmax of the
classes mapped onto it, and classes that map nowhere abstain. Dense maps keep class ids.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import torch
from apache_beam.utils.shared import Shared

from labelmill.labelers.base import Labeler
from labelmill.labelers.images.dense import DenseOutputs, check_class_count, kept_classes, summarize
from labelmill.labelers.images.preprocess import MAX_ASPECT, Normalizer, check_pixels, group_by_size
from labelmill.labelers.images.specs import LoadedModel, load_model, spec_name
from labelmill.schemas.ontology import load_ontology
from labelmill.schemas.records import LabelRecord, Sample

DEFAULT_MAP_SIZE = 15  # every map [k, 15, 15], as in ReLabel, so that a DataLoader can stack them
INDEX_ARRAY = "labelmap_idx"
SCORE_ARRAY = "labelmap_score"


def resolve_device(device: str) -> torch.device:
    """ "auto" picks the GPU when there is one; "cuda" without one is an error, not a fallback."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but no CUDA device is available")
    return resolved


_HANDLES: dict[tuple[str, str], Shared] = {}
_HANDLES_LOCK = threading.Lock()


def shared_model(spec: str, device: torch.device) -> LoadedModel:
    """The model `spec` on `device`, loaded once per process and shared by every labeler in it
    (threads of one SDK worker); freed when the last labeler holding it is gone."""
    with _HANDLES_LOCK:
        handle = _HANDLES.setdefault((spec, str(device)), Shared())

    def load() -> LoadedModel:
        loaded = load_model(spec)
        check_class_count(len(loaded.classes))
        loaded.net.to(device)
        if device.type == "cuda":
            loaded.net.to(memory_format=torch.channels_last)
        return loaded

    return handle.acquire(load)


class ImageModelLabeler(Labeler):
    """Label images with a classifier's pooled prediction and its per-location top-k map."""

    needs_pixels = True

    def __init__(
        self,
        model: str = "imagenet-demo",
        topk: int = 5,
        map_size: int | str | None = DEFAULT_MAP_SIZE,
        threshold: float = 0.5,
        batch_size: int = 32,
        device: str = "auto",
        ontology: str | None = None,
        class_maps: dict[str, dict[str, list[str]]] | None = None,
    ) -> None:
        """`class_maps` (run-time, from a build's Harmonize step): `class_map_key` -> class ->
        labels; without it an `ontology` is mapped here, on first use."""
        map_size = None if map_size == "native" else map_size  # the model's own grid, on request
        for name, value in (("topk", topk), ("batch_size", batch_size), ("map_size", map_size)):
            if value is None and name == "map_size":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
        self.model, self.topk, self.map_size = model, topk, map_size
        self.threshold, self.batch_size, self.device = threshold, batch_size, device
        if ontology is not None:
            if not isinstance(ontology, str) or not ontology:
                raise ValueError(f"ontology: expected an ontology name or file, got {ontology!r}")
            load_ontology(ontology)  # a bad name fails here, before any class is mapped
        self.ontology = ontology
        given = (class_maps or {}).get(class_map_key(model, ontology)) if ontology else None
        self.class_map: dict[str, list[str]] | None = given
        self.source = f"image/{spec_name(model)}"
        self._loaded: LoadedModel | None = None
        self._normalizer: Normalizer | None = None
        self._targets: dict[str, list[int]] = {}  # ontology label -> the classes mapped onto it

    def __getstate__(self) -> dict[str, Any]:
        """Ship options only; each worker loads its own model in setup()."""
        return {**self.__dict__, "_loaded": None, "_normalizer": None}

    def _load(self) -> LoadedModel:
        if self._loaded is None:
            self._loaded = shared_model(self.model, torch.device("cpu"))
        return self._loaded

    def _map_classes(self, classes: list[str]) -> None:
        if self.ontology is None:
            return
        if self.class_map is None:
            from labelmill.fileio import default_cache_dir
            from labelmill.labelers.harmonize import map_names

            found = map_names(classes, self.ontology, cache_dir=default_cache_dir("harmonize"))
            self.class_map = {name: list(labels) for name, labels in found.items()}
        self._targets = {}
        for c, name in enumerate(classes):
            for label in self.class_map.get(name, ()):
                self._targets.setdefault(label, []).append(c)

    def setup(self) -> None:
        device = resolve_device(self.device)
        self._loaded = loaded = shared_model(self.model, device)
        self._map_classes(loaded.classes)
        self._normalizer = Normalizer(loaded.mean, loaded.std, device)

    @staticmethod
    def check(sample: Sample) -> None:
        """Raise the RejectError that `label_batch` would raise for this sample, if any."""
        check_pixels(sample)

    def label_batch(self, samples: Sequence[Sample]) -> list[LabelRecord]:
        """One record per sample; a sample without usable pixels rejects the call before any work.

        Callers that want the rest of such a batch labeled check samples first with `check`.
        """
        if self._normalizer is None:
            self.setup()
        loaded, normalizer = self._loaded, self._normalizer
        assert loaded is not None and normalizer is not None
        images = [check_pixels(s) for s in samples]
        records: dict[int, LabelRecord] = {}
        groups = group_by_size([im.shape[:2] for im in images], loaded.image_size, loaded.stride)
        for size, positions in groups.items():
            for start in range(0, len(positions), self.batch_size):
                chunk = positions[start : start + self.batch_size]
                x = normalizer([images[i] for i in chunk], size)
                cuda = x.device.type == "cuda"
                with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=cuda):
                    dense, pooled = loaded.net(x)
                    out = summarize(dense, pooled, self.topk, self.map_size)
                for row, i in enumerate(chunk):
                    records[i] = self._record(out, row, size, loaded.classes)
        return [records[i] for i in range(len(samples))]

    def _record(
        self, out: DenseOutputs, row: int, size: tuple[int, int], classes: list[str]
    ) -> LabelRecord:
        probs = out.global_probs[row]
        kept = kept_classes(probs, self.topk, self.threshold)
        h, w = out.grid
        evidence = []
        for c in kept:
            y, x = divmod(int(out.peak_cell[row, c]), w)
            item = {
                "label": classes[c],
                "peak_score": round(float(out.peak_score[row, c]), 6),
                "peak_yx": [round((y + 0.5) / h, 6), round((x + 0.5) / w, 6)],
            }
            if self.class_map is not None:
                item["maps_to"] = list(self.class_map.get(classes[c], ()))
            evidence.append(item)
        if self.class_map is None:
            scores = {classes[c]: float(probs[c]) for c in kept}
        else:
            named = {lab for c in kept for lab in self.class_map.get(classes[c], ())}
            scores = {
                lab: min(1.0, float(probs[cs].sum()))
                for lab, cs in self._targets.items()
                if lab in named
            }
        index, score = out.index[row], out.score[row]
        return LabelRecord(
            source=self.source,
            labels=dict.fromkeys(scores, 1),
            scores=scores,
            evidence=evidence,
            meta={
                "model": self.model,
                "input_size": list(size),
                "grid": [h, w],
                "map_shape": list(index.shape),
            },
            arrays={INDEX_ARRAY: index, SCORE_ARRAY: score},
        )

    def describe(self) -> dict[str, Any]:
        loaded = self._load()
        return {
            "source": self.source,
            "model": self.model,
            "classes": list(loaded.classes),
            "topk": self.topk,
            "map_size": self.map_size or "native",
            "threshold": self.threshold,
            "global_labels": "top-k of the model's pooled softmax, plus classes >= threshold",
            **self._describe_mapping(),
            "arrays": {
                INDEX_ARRAY: "int16 [k, H, W] class ids per location, best first",
                SCORE_ARRAY: "float16 [k, H, W] softmax probability per location",
            },
            "preprocessing": {
                "resize": "shorter side to image_size, aspect kept, longer side on the stride grid",
                "image_size": loaded.image_size,
                "stride": loaded.stride,
                "max_aspect": MAX_ASPECT,
                "interpolation": "bilinear, antialiased",
                "mean": list(loaded.mean),
                "std": list(loaded.std),
            },
        }

    def _describe_mapping(self) -> dict[str, Any]:
        if self.ontology is None or self.class_map is None:
            return {}
        mapped = {name: labels for name, labels in self.class_map.items() if labels}
        return {
            "ontology": self.ontology,
            "class_map": mapped,
            "unmapped_classes": len(self.class_map) - len(mapped),
            "mapped_labels": "ontology labels of the kept classes; score = their summed softmax",
        }


def class_map_key(model: str, ontology: str) -> str:
    """How a build's Harmonize step files one model's class mapping onto one ontology."""
    return f"{ontology} <- {model}"
