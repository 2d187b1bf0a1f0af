"""From dense logits to what is stored: top-k label maps, global probabilities, per-class peaks.

All reductions run on the model's device and only small results travel back: the top-k map
(k x H x W per image), and per class its global probability and its peak location.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

INDEX_DTYPE = np.int16
SCORE_DTYPE = np.float16


@dataclass
class DenseOutputs:
    """One batch of results on the CPU; arrays are indexed by image first."""

    index: np.ndarray  # int16 [B, k, H, W]: class ids per location, best first
    score: np.ndarray  # float16 [B, k, H, W]: their softmax probabilities at that location
    global_probs: np.ndarray  # float32 [B, K]: the model's own pooled prediction
    peak_score: np.ndarray  # float32 [B, K]: highest per-location probability of each class
    peak_cell: np.ndarray  # int64 [B, K]: flat index of that location on the feature grid
    grid: tuple[int, int]  # feature grid (h, w) the peaks refer to


def check_class_count(num_classes: int) -> None:
    """Class ids are stored as int16, as in the ReLabel release; refuse heads that overflow it."""
    if num_classes > np.iinfo(INDEX_DTYPE).max + 1:
        raise ValueError(f"{num_classes} classes do not fit the int16 label map")


def topk_map(
    probs: torch.Tensor, k: int, map_size: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k classes per location of `[B, K, h, w]` probabilities, on the grid or resampled.

    Resampling interpolates the full probability map (bilinear, antialiased when shrinking)
    before choosing the top k, so each output cell ranks classes by its own mixture.
    """
    if map_size is not None and probs.shape[-2:] != (map_size, map_size):
        probs = F.interpolate(
            probs, size=(map_size, map_size), mode="bilinear", align_corners=False, antialias=True
        )
    score, index = probs.topk(min(k, probs.shape[1]), dim=1)
    return score, index


def summarize(
    dense_logits: torch.Tensor, pooled_logits: torch.Tensor, k: int, map_size: int | None
) -> DenseOutputs:
    """Turn one forward pass's logits into the stored top-k map and the global predictions."""
    probs = dense_logits.float().softmax(dim=1)
    score, index = topk_map(probs, k, map_size)
    peak_score, peak_cell = probs.flatten(2).max(dim=2)
    return DenseOutputs(
        index=index.to(torch.int16).cpu().numpy(),
        score=score.to(torch.float16).cpu().numpy(),
        global_probs=pooled_logits.float().softmax(dim=1).cpu().numpy(),
        peak_score=peak_score.cpu().numpy(),
        peak_cell=peak_cell.cpu().numpy(),
        grid=(probs.shape[-2], probs.shape[-1]),
    )


def kept_classes(probs: np.ndarray, k: int, threshold: float) -> list[int]:
    """Class ids of one image's global labels: its top k plus any class at or above `threshold`.

    Ordered by probability, ties by class id, so the same probabilities give the same list.
    """
    order = np.lexsort((np.arange(len(probs)), -probs))
    return [int(c) for rank, c in enumerate(order) if rank < k or probs[c] >= threshold]
