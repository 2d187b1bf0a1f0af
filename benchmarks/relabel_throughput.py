"""Benchmark the model-relabeling stage: the model alone against the whole stage, same batch size.

(a) forward pass alone: the dense classifier on ready-made input tensors on the device;
(b) whole stage: encoded JPEG bytes -> decode (a thread pool, as the loader's CPU workers would)
    -> resize and normalise -> forward -> top-k map -> `.npy` member bytes.
Both run in alternating rounds and the best round of each counts, so that other load on the
machine skews the ratio less. Prints images/s of both and (b)/(a); the target on a GPU is >= 0.9.

    python benchmarks/relabel_throughput.py [--model imagenet-demo] [--batch-size 32]
        [--images 256] [--rounds 3] [--device auto|cpu|cuda] [--map-size 15] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from labelmill.labelers.images.labeler import ImageModelLabeler
from labelmill.labelers.images.preprocess import input_size
from labelmill.schemas.records import InputRow, Sample

# Typical ImageNet photo: 500 x 375 JPEG.
PHOTO_SIZE = (500, 375)


def make_jpegs(count: int) -> list[bytes]:
    """`count` distinct JPEGs cut from scikit-image's sample photos (or gradients without it)."""
    try:
        from skimage import data

        photos = [data.chelsea(), data.coffee(), data.astronaut(), data.rocket()]
    except ImportError:
        ramp = np.linspace(0, 255, 640, dtype=np.uint8)
        photos = [np.stack(np.broadcast_arrays(ramp[None, :], ramp[:480, None], 128), -1)]
    out = []
    for i in range(count):
        photo = Image.fromarray(photos[i % len(photos)])
        shift = i % 17
        crop = photo.crop((shift, shift, photo.width - shift, photo.height - shift))
        buffer = io.BytesIO()
        crop.resize(PHOTO_SIZE, Image.BILINEAR).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def decode(index: int, blob: bytes) -> Sample:
    """What the loader does for a labeler that needs pixels: decode to an RGB uint8 array."""
    with Image.open(io.BytesIO(blob)) as image:
        pixels = np.asarray(image.convert("RGB"))
    row = InputRow(row=index + 1, id=str(index), image=f"{index}.jpg")
    return Sample(row, f"{index:08d}", blob, "jpg", {}, None, pixels=pixels)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def model_alone(labeler: ImageModelLabeler, batches: int) -> float:
    """Images/s of the forward pass on device-resident, ready-normalised inputs."""
    loaded = labeler._loaded
    device = labeler._normalizer.device
    size = input_size(PHOTO_SIZE[1], PHOTO_SIZE[0], loaded.image_size, loaded.stride)
    x = torch.randn(labeler.batch_size, 3, *size, device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    cuda = device.type == "cuda"
    with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=cuda):
        loaded.net(x)  # warm-up
        sync(device)
        start = time.perf_counter()
        for _ in range(batches):
            loaded.net(x)
        sync(device)
    return batches * labeler.batch_size / (time.perf_counter() - start)


def batched(items: Iterator[Sample], size: int) -> Iterator[list[Sample]]:
    batch: list[Sample] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def whole_stage(labeler: ImageModelLabeler, blobs: list[bytes], workers: int) -> float:
    """Images/s from JPEG bytes to stored map members, decoding ahead in a thread pool."""
    stored = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        samples = pool.map(decode, range(len(blobs)), blobs)
        for batch in batched(samples, labeler.batch_size):
            for record in labeler.label_batch(batch):
                stored += sum(len(npy_bytes(a)) for a in record.arrays.values())
    assert stored > 0
    return len(blobs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="imagenet-demo")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--map-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    labeler = ImageModelLabeler(
        model=args.model,
        topk=args.topk,
        map_size=args.map_size,
        batch_size=args.batch_size,
        device=args.device,
    )
    labeler.setup()
    blobs = make_jpegs(args.images)
    whole_stage(labeler, blobs[: args.batch_size], args.workers)  # warm-up, incl. autotuning
    forward = stage = 0.0
    for _ in range(args.rounds):
        forward = max(forward, model_alone(labeler, max(1, args.images // args.batch_size)))
        stage = max(stage, whole_stage(labeler, blobs, args.workers))
    device = labeler._normalizer.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"model {args.model}, device {name}, {torch.get_num_threads()} torch threads")
    print(
        f"batch {args.batch_size}, {args.images} JPEGs of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, "
        f"{args.workers} decode workers, best of {args.rounds} rounds"
    )
    print(f"(a) forward pass alone: {forward:9.1f} images/s")
    print(f"(b) whole stage:        {stage:9.1f} images/s")
    print(f"(b)/(a): {stage / forward:.2f}")


if __name__ == "__main__":
    main()
