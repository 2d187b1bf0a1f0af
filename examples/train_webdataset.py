"""Train on labelmill shards with LabelPooling targets, as "Re-labeling ImageNet" trains.

Each step takes a random-resized crop (and maybe a flip) of every image, and its soft target is
the label map RoI-aligned to that crop: a crop of the cat half of a cat-and-coffee photo learns
"cat", not the image's single label. Build shards with a map first, e.g.

    labelmill build -i photos.csv -o built --image-model imagenet-demo --map-size 15
    python examples/train_webdataset.py --shards 'built/shards/*.tar' --steps 100

`--demo` writes a few labeled shards from scikit-image's sample photos to a temporary folder and
trains a tiny network on them for a few steps on the CPU.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import math
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import webdataset as wds
from PIL import Image
from torch import nn

from labelmill.labelers.images.labeler import INDEX_ARRAY, SCORE_ARRAY, ImageModelLabeler
from labelmill.labelers.images.pooling import LabelPooling
from labelmill.labelers.images.relabel_export import to_relabel
from labelmill.pipelines.export_relabel import find_classes
from labelmill.schemas.records import InputRow, Sample

IMAGE_KEYS = ("jpg", "jpeg", "png", "webp")


def random_resized_crop(
    width: int, height: int, rng: random.Random, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)
) -> tuple[int, int, int, int]:
    """(left, top, crop width, crop height), sampled as torchvision's RandomResizedCrop does."""
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, width - w), rng.randint(0, height - h), w, h
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side, side


class CropWithTarget:
    """Sample -> (crop tensor, soft target over all classes) for one training step."""

    def __init__(self, num_classes: int, size: int, seed: int) -> None:
        self.pooling = LabelPooling(num_classes)
        self.num_classes = num_classes
        self.size = size
        self.rng = random.Random(seed)

    def __call__(self, sample: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        image = next(sample[k] for k in IMAGE_KEYS if k in sample).convert("RGB")
        left, top, w, h = random_resized_crop(image.width, image.height, self.rng)
        flipped = self.rng.random() < 0.5
        crop = image.resize(
            (self.size, self.size), Image.BILINEAR, box=(left, top, left + w, top + h)
        )
        if flipped:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        pixels = torch.from_numpy(np.asarray(crop).copy()).permute(2, 0, 1).float() / 255
        box = (
            left / image.width,
            top / image.height,
            (left + w) / image.width,
            (top + h) / image.height,
        )
        label_map = to_relabel(
            sample[f"{INDEX_ARRAY}.npy"], sample[f"{SCORE_ARRAY}.npy"], self.num_classes
        )
        return pixels, self.pooling(torch.from_numpy(label_map), box, flipped)


def tiny_student(num_classes: int) -> nn.Module:
    """A small CNN: enough to show the loop, fast on a CPU."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, num_classes),
    )


def write_demo_shards(out: Path, map_size: int = 15) -> tuple[str, int]:
    """Label scikit-image's photos with imagenet-demo; write a shard and run.json like a build."""
    from skimage import data

    photos = {name: getattr(data, name)() for name in ("chelsea", "coffee", "astronaut", "rocket")}
    labeler = ImageModelLabeler(model="imagenet-demo", map_size=map_size, device="cpu")
    samples = [
        Sample(InputRow(i + 1, name, f"{name}.jpg"), name, b"", "jpg", {}, None, pixels=pixels)
        for i, (name, pixels) in enumerate(photos.items())
    ]
    (out / "shards").mkdir(parents=True, exist_ok=True)
    shard = out / "shards" / "demo-000000.tar"
    with wds.TarWriter(str(shard)) as sink:
        for sample, record in zip(samples, labeler.label_batch(samples), strict=True):
            member = {"__key__": sample.key, "jpg": _jpeg(sample.pixels)}
            member.update({f"{name}.npy": _npy(a) for name, a in record.arrays.items()})
            sink.write(member)
    (out / "run.json").write_text(json.dumps({"labelers": [labeler.describe()]}))
    return str(shard), len(labeler.describe()["classes"])


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def train(
    shards: list[str], num_classes: int, steps: int, batch_size: int, size: int
) -> list[float]:
    """Run `steps` SGD steps on soft LabelPooling targets; returns the losses."""
    torch.manual_seed(0)
    dataset = (
        wds.WebDataset(shards, shardshuffle=False, empty_check=False)
        .repeat()
        .shuffle(64, rng=random.Random(0))
        .decode("pil")
        .map(CropWithTarget(num_classes, size, seed=0))
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=0)
    model = tiny_student(num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for step, (images, targets) in enumerate(loader):
        if step == steps:
            break
        loss = F.cross_entropy(model(images), targets)  # soft targets: class probabilities
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print(f"step {step}: loss {loss.item():.4f}")
    return losses


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", help="Shard glob, e.g. 'built/shards/*.tar'.")
    parser.add_argument(
        "--run-json", help="run.json with the class list (default: beside the shards)."
    )
    parser.add_argument("--demo", action="store_true", help="Write and use a small demo shard.")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=64, help="Crop size in pixels.")
    args = parser.parse_args(argv)
    if args.demo:
        with tempfile.TemporaryDirectory() as tmp:
            shard, num_classes = write_demo_shards(Path(tmp))
            return train([shard], num_classes, args.steps, args.batch_size, args.size)
    if not args.shards:
        parser.error("pass --shards or --demo")
    shards = sorted(glob.glob(args.shards))
    run_json = Path(args.run_json) if args.run_json else Path(shards[0]).parent.parent / "run.json"
    classes = find_classes(json.loads(run_json.read_text()))
    if classes is None:
        parser.error(f"no class list in {run_json}")
    return train(shards, len(classes), args.steps, args.batch_size, args.size)


if __name__ == "__main__":
    main()
