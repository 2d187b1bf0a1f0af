"""LabelPooling: the soft training target of a random crop, read off a dense label map.

ReLabel's algorithm: scatter the top-k scores of the map into a zero map over all classes,
RoIAlign it to the crop box, and take the softmax. RoIAlign is linear in the map, so here each
map cell's RoIAlign weight is computed once and only the k stored scores per cell are
scattered into the class axis; no `[C, H, W]` tensor is ever built. RoIAlign follows
torchvision's `roi_align(aligned=True)` (pixel centres at +0.5, adaptive sampling), written out
because torchvision is not a dependency.
"""

from __future__ import annotations

import math

import torch


def _axis_weights(start: float, end: float, size: int, bins: int, samples: int) -> torch.Tensor:
    """`[bins, size]` weights of each map row (or column) in the bin averages along one axis.

    Sample points sit at the centres of `samples` equal parts of each bin; each is bilinearly
    interpolated from its two neighbouring cells, with torchvision's edge rules (points more
    than one cell outside the map count as zero; points within clamp to the border cell).
    """
    bin_size = (end - start) / bins
    offsets = (torch.arange(samples, dtype=torch.float64) + 0.5) * bin_size / samples
    points = start + torch.arange(bins, dtype=torch.float64)[:, None] * bin_size + offsets
    inside = (points >= -1.0) & (points <= size)
    points = points.clamp(min=0.0)
    low = points.floor().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = torch.where(low >= size - 1, torch.zeros_like(points), points - low)
    weights = torch.zeros(bins, samples, size, dtype=torch.float64)
    weights.scatter_add_(2, low.long()[..., None], ((1 - frac) * inside)[..., None])
    weights.scatter_add_(2, high.long()[..., None], (frac * inside)[..., None])
    return weights.mean(dim=1)


def roi_align(
    values: torch.Tensor,
    box: tuple[float, float, float, float],
    output_size: tuple[int, int] = (1, 1),
    sampling_ratio: int = -1,
) -> torch.Tensor:
    """RoIAlign of one `[C, H, W]` map over `box` = (x0, y0, x1, y1) in map cells -> `[C, oh, ow]`.

    Same numbers as torchvision's `roi_align(..., aligned=True)` for one box.
    """
    wy, wx = roi_weights(box, values.shape[-2:], output_size, sampling_ratio)
    return torch.einsum("ih,chw,jw->cij", wy.to(values.dtype), values, wx.to(values.dtype))


def roi_weights(
    box: tuple[float, float, float, float],
    map_shape: tuple[int, int],
    output_size: tuple[int, int],
    sampling_ratio: int = -1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable RoIAlign weights: rows `[oh, H]` and columns `[ow, W]` (float64)."""
    x0, y0, x1, y1 = (float(v) - 0.5 for v in box)
    (height, width), (oh, ow) = map_shape, output_size
    gy = sampling_ratio if sampling_ratio > 0 else max(1, math.ceil((y1 - y0) / oh))
    gx = sampling_ratio if sampling_ratio > 0 else max(1, math.ceil((x1 - x0) / ow))
    return _axis_weights(y0, y1, height, oh, gy), _axis_weights(x0, x1, width, ow, gx)


class LabelPooling:
    """Soft target over all classes for a crop of an image, from its ReLabel-layout label map.

    `label_map` is `[2, k, H, W]` (logits, class ids), as written by `to_relabel`. `box` is the
    crop in the original image as fractions (x0, y0, x1, y1) before any flip. With the default
    1x1 output the target is one distribution `[C]`; larger outputs give `[C, oh, ow]` targets
    in the crop's own frame, mirrored when the crop was flipped.
    """

    def __init__(self, num_classes: int, output_size: tuple[int, int] = (1, 1)) -> None:
        self.num_classes = num_classes
        self.output_size = output_size

    def __call__(
        self,
        label_map: torch.Tensor,
        box: tuple[float, float, float, float],
        flipped: bool = False,
    ) -> torch.Tensor:
        logits, ids = label_map[0].float(), label_map[1].long()
        k, height, width = logits.shape
        x0, y0, x1, y1 = box
        cells = (x0 * width, y0 * height, x1 * width, y1 * height)
        wy, wx = roi_weights(cells, (height, width), self.output_size)
        oh, ow = self.output_size
        # weight of map cell (h, w) in output cell (i, j): [oh*ow, H*W]
        cell_weights = torch.einsum("ih,jw->ijhw", wy, wx).reshape(oh * ow, height * width).float()
        contributions = cell_weights[:, None, :] * logits.reshape(1, k, height * width)
        pooled = torch.zeros(oh * ow, self.num_classes)
        index = ids.reshape(1, k * height * width).expand(oh * ow, -1)
        pooled.scatter_add_(1, index, contributions.reshape(oh * ow, k * height * width))
        target = pooled.softmax(dim=1).T.reshape(self.num_classes, oh, ow)
        if flipped:
            target = target.flip(-1)
        return target[:, 0, 0] if self.output_size == (1, 1) else target
