"""The WebDataset training example runs a few steps on demo shards, and its crops are valid."""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "train_webdataset.py"

pytest.importorskip("skimage")


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("train_webdataset", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_random_resized_crop_stays_inside_the_image(example) -> None:
    rng = random.Random(0)
    for _ in range(200):
        left, top, w, h = example.random_resized_crop(500, 375, rng)
        assert 0 <= left and left + w <= 500 and 0 <= top and top + h <= 375
        assert 0.08 * 500 * 375 * 0.9 <= w * h <= 500 * 375


def crop_label_map(example, sample, num_classes: int):
    import torch

    index = sample[f"{example.INDEX_ARRAY}.npy"]
    return torch.from_numpy(
        example.to_relabel(index, sample[f"{example.SCORE_ARRAY}.npy"], num_classes)
    )


def test_demo_training_runs_on_label_pooling_targets(example, tmp_path) -> None:
    shard, num_classes = example.write_demo_shards(tmp_path)
    assert num_classes == 1000
    crop = example.CropWithTarget(num_classes, size=32, seed=0)
    import webdataset as wds

    first = next(iter(wds.WebDataset(shard, shardshuffle=False).decode("pil")))
    pixels, target = crop(first)
    assert pixels.shape == (3, 32, 32) and target.shape == (1000,)
    assert float(target.sum()) == pytest.approx(1.0, abs=1e-5)
    # The whole photo's pooled target ranks the photo's own class first.
    full = crop.pooling(crop_label_map(example, first, num_classes), (0.0, 0.0, 1.0, 1.0))
    assert first["__key__"] == "chelsea" and int(full.argmax()) == 285  # Egyptian cat
    # The class list comes from run.json beside the shards' folder, as in a build.
    args = ["--shards", str(tmp_path / "shards" / "*.tar"), "--steps", "3", "--batch-size", "4"]
    losses = example.main([*args, "--size", "32"])
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
