"""Small images for the page: sample thumbnails and label-map overlays, as WebP data URIs.

The page embeds every image (it opens offline as one file), so their bytes are its size: a
thumbnail is at most SIDE pixels and lossy WebP (a few kB), where a full-size PNG of the same
picture is a hundred times more. Pillow without WebP support falls back to PNG.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, features

from labelmill.pipelines.shard_reader import open_image

SIDE = 112
QUALITY = 70
MAP_COLORS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a6cee3"]
ALPHA = 0.45


def to_rgb(data: bytes) -> np.ndarray:
    """Decoded image bytes as 8-bit RGB; 16-bit and float images are scaled to their range.
    Shard bytes are untrusted: a decompression bomb is a ValueError, never decoded."""
    with open_image(data) as im:
        if im.mode in ("RGB", "L", "P", "RGBA", "LA", "CMYK", "YCbCr", "1"):
            return np.asarray(im.convert("RGB"))
        values = np.asarray(im, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
    gray = scaled.astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2) if gray.ndim == 2 else gray[..., :3]


def data_uri(image: Image.Image) -> str:
    """The image as a data URI: WebP when Pillow has it, else PNG; no metadata (deterministic)."""
    out = io.BytesIO()
    if features.check("webp"):
        image.save(out, format="WEBP", quality=QUALITY, method=6)
        kind = "webp"
    else:
        image.save(out, format="PNG", optimize=True)
        kind = "png"
    return f"data:image/{kind};base64," + base64.b64encode(out.getvalue()).decode("ascii")


def shrink(data: bytes, side: int = SIDE) -> Image.Image | None:
    """The picture scaled to fit `side` x `side`; None when the bytes do not decode."""
    try:
        image = Image.fromarray(to_rgb(data))
    except (OSError, ValueError):
        return None
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def overlay(image: Image.Image, top1: np.ndarray, shown: Sequence[int]) -> Image.Image:
    """`image` with the top-1 class map laid over it: the `shown` classes in MAP_COLORS (in
    order), other cells left clear. The map is stretched to the picture, cell edges kept."""
    colored = np.zeros((*top1.shape, 3), dtype=np.float32)
    mask = np.zeros(top1.shape, dtype=np.float32)
    for i, cls in enumerate(shown[: len(MAP_COLORS)]):
        hit = top1 == cls
        colored[hit] = hex_rgb(MAP_COLORS[i])
        mask[hit] = ALPHA
    size = image.size
    layer = Image.fromarray(colored.astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    alpha = Image.fromarray((mask * 255).astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    a = np.asarray(alpha, dtype=np.float32)[..., None] / 255
    mixed = base * (1 - a) + np.asarray(layer, dtype=np.float32) * a
    return Image.fromarray(mixed.round().astype(np.uint8))


def largest_classes(top1: np.ndarray, limit: int = len(MAP_COLORS)) -> list[int]:
    """The classes of a top-1 map by area, largest first (ties by id)."""
    ids, counts = np.unique(top1, return_counts=True)
    order = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0]))
    return [cls for cls, _ in order[:limit]]
