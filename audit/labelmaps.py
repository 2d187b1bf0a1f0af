"""Label maps: which classes the image model's top-1 maps cover, and a few samples to look at.

Any `.npy` member whose name contains "labelmap" is a map; the integer one holds class ids
(`[k, H, W]`, best first, or `[H, W]`) and a float one, if any, their scores. Class names come
from the labeler's `classes` list in run.json; without it the ids are shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelmill.audit.read import ShardSample
from labelmill.audit.stats import ratio, rnd
from labelmill.audit.votes import Votes

GALLERY = 6
CLASSES_SHOWN = 5
TOP_CLASSES = 10


@dataclass
class MapItem:
    """A gallery sample: its image bytes, top-1 class map and that map's scores."""

    key: str
    image: bytes
    top1: np.ndarray
    score: np.ndarray | None


def class_names(run: dict[str, Any]) -> list[str]:
    """The first labeler's class list in run.json, or [] when no labeler records one."""
    for labeler in run.get("labelers") or []:
        if isinstance(labeler, dict) and isinstance(labeler.get("classes"), list):
            return [str(c) for c in labeler["classes"]]
    return []


def top1(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The top-1 class map and its scores from a sample's label-map arrays, if any."""
    index = next((a for a in arrays.values() if np.issubdtype(a.dtype, np.integer)), None)
    if index is None or index.ndim not in (2, 3):
        return None
    score = next((a for a in arrays.values() if np.issubdtype(a.dtype, np.floating)), None)
    first = index[0] if index.ndim == 3 else index
    if score is not None and score.ndim == index.ndim and score.shape == index.shape:
        return first, (score[0] if score.ndim == 3 else score).astype(np.float32)
    return first, None


class LabelMaps:
    """Class areas over every map, and the first GALLERY samples that have one."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.classes = class_names(run)
        self.samples = 0
        self.area: Counter[int] = Counter()
        self.names: set[str] = set()
        self.shapes: Counter[str] = Counter()
        self.gallery: list[MapItem] = []

    def name(self, cls: int) -> str:
        return self.classes[cls] if 0 <= cls < len(self.classes) else f"class {cls}"

    def add(self, sample: ShardSample, votes: Votes) -> None:
        arrays = sample.label_maps()
        found = top1(arrays)
        if found is None:
            return
        first, score = found
        self.samples += 1
        self.names.update(arrays)
        self.shapes["x".join(str(d) for d in first.shape)] += 1
        ids, counts = np.unique(first, return_counts=True)
        for cls, count in zip(ids.tolist(), counts.tolist(), strict=True):
            self.area[cls] += count / first.size
        image = sample.image
        if image is not None and len(self.gallery) < GALLERY:
            self.gallery.append(MapItem(sample.key, image, first, score))

    def shares(self, item: MapItem) -> list[dict[str, Any]]:
        """The classes of one top-1 map by area, largest first, with their mean score."""
        ids, counts = np.unique(item.top1, return_counts=True)
        order = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0]))
        out = []
        for cls, count in order[:CLASSES_SHOWN]:
            mask = item.top1 == cls
            score = float(item.score[mask].mean()) if item.score is not None else None
            out.append(
                {
                    "class": cls,
                    "name": self.name(cls),
                    "share": ratio(count, item.top1.size),
                    "mean_score": rnd(score),
                }
            )
        return out

    def result(self) -> dict[str, Any]:
        top = sorted(self.area.items(), key=lambda t: (-t[1], t[0]))[:TOP_CLASSES]
        return {
            "samples_with_maps": self.samples,
            "arrays": sorted(self.names),
            "class_names_known": bool(self.classes),
            "map_shapes": dict(sorted(self.shapes.items())),
            "top_classes": [
                {"class": c, "name": self.name(c), "mean_area": ratio(a, self.samples)}
                for c, a in top
            ],
            "gallery": [{"key": item.key, "classes": self.shares(item)} for item in self.gallery],
        }
