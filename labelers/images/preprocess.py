"""From a sample's decoded pixels to the model's input tensor, on the model's device.

Images keep their aspect ratio: the shorter side is resized to the model's input size and the
longer side to the nearest multiple of the model's stride (at most MAX_ASPECT times the shorter
side). Squashing a wide image to a square would distort what each map cell sees; a side-by-side
composite of two photos would lose both. Images are grouped by input size so that each group is
one batch; resizing runs on the device, uploading the uint8 pixels only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from labelmill.schemas.records import Reason, RejectError, Sample, Stage

MAX_ASPECT = 3.0


def check_pixels(sample: Sample) -> np.ndarray:
    """The sample's RGB uint8 pixels, or a reject that says what is wrong with them."""
    pixels = sample.pixels
    if pixels is None:
        raise RejectError(Stage.LABEL, Reason.NOT_AN_IMAGE, f"{sample.key}: no decoded pixels")
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8:
        kind = getattr(pixels, "dtype", type(pixels).__name__)
        raise RejectError(
            Stage.LABEL, Reason.NOT_AN_IMAGE, f"{sample.key}: pixels are {kind}, not uint8"
        )
    if pixels.ndim != 3 or pixels.shape[2] != 3 or min(pixels.shape[:2]) == 0:
        raise RejectError(
            Stage.LABEL,
            Reason.NOT_AN_IMAGE,
            f"{sample.key}: pixels have shape {pixels.shape}, not HxWx3",
        )
    return pixels


def input_size(height: int, width: int, short: int, stride: int) -> tuple[int, int]:
    """Model input (h, w) for an image: shorter side `short`, aspect kept on the stride grid."""
    aspect = min(max(height, width) / min(height, width), MAX_ASPECT)
    long = max(short, round(short * aspect / stride) * stride)
    return (short, long) if width >= height else (long, short)


def group_by_size(
    shapes: Sequence[tuple[int, int]], short: int, stride: int
) -> dict[tuple[int, int], list[int]]:
    """Positions of the images per model input size, sizes in sorted order (deterministic)."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (h, w) in enumerate(shapes):
        groups[input_size(h, w, short, stride)].append(i)
    return dict(sorted(groups.items()))


class Normalizer:
    """Resize uint8 HxWx3 images to one size and normalise them, as one float batch on `device`."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], device: torch.device) -> None:
        self.device = device
        std_t = torch.tensor(std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        # (x / 255 - mean) / std as one multiply-add.
        self.scale = 1.0 / (255.0 * std_t)
        self.shift = -mean_t / std_t

    def _upload(self, arrays: list[np.ndarray]) -> torch.Tensor:
        batch = torch.from_numpy(np.stack(arrays))
        if self.device.type == "cuda":
            batch = batch.pin_memory()
        return batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()

    def __call__(self, images: Sequence[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
        """Images of one input size; those sharing a source size are resized in one call.

        The uploaded batch is already channels_last (NHWC memory seen as NCHW), and stays so
        through the resize; normalising in place on it saves the staging copy and two full
        passes when all images share one source size, the usual case."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, image in enumerate(images):
            by_shape[image.shape].append(i)
        if len(by_shape) == 1:
            out = self._resized(images, size)
        else:
            out = torch.empty(
                (len(images), 3, *size),
                dtype=torch.float32,
                device=self.device,
                memory_format=torch.channels_last,
            )
            for positions in by_shape.values():
                out[positions] = self._resized([images[i] for i in positions], size)
        out.mul_(self.scale).add_(self.shift)
        return out.contiguous(memory_format=torch.channels_last)

    def _resized(self, images: Sequence[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
        """Images of one source size, uploaded and resized to `size` (float, 0-255)."""
        batch = self._upload(list(images))
        if tuple(images[0].shape[:2]) == size:
            return batch
        return F.interpolate(batch, size=size, mode="bilinear", align_corners=False, antialias=True)
