"""Tiny transformers classifiers saved to local folders, and samples built from pixel arrays."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from labelmill.schemas.records import InputRow, Sample

NUM_CLASSES = 12


def _labels() -> dict:
    id2label = {i: f"class {i}" for i in range(NUM_CLASSES)}
    return {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Random tiny CNN (ResNet), ConvNeXt, ViT and Swin classifiers as `save_pretrained` folders."""
    from transformers import (
        ConvNextConfig,
        ConvNextForImageClassification,
        ResNetConfig,
        ResNetForImageClassification,
        SwinConfig,
        SwinForImageClassification,
        ViTConfig,
        ViTForImageClassification,
    )

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny_models")
    models = {
        "cnn": ResNetForImageClassification(
            ResNetConfig(
                embedding_size=8,
                hidden_sizes=[8, 16],
                depths=[1, 1],
                layer_type="basic",
                **_labels(),
            )
        ),
        "convnext": ConvNextForImageClassification(
            ConvNextConfig(num_stages=2, hidden_sizes=[8, 16], depths=[1, 1], **_labels())
        ),
        "vit": ViTForImageClassification(
            ViTConfig(
                hidden_size=16,
                num_hidden_layers=1,
                num_attention_heads=2,
                intermediate_size=32,
                image_size=32,
                patch_size=8,
                **_labels(),
            )
        ),
        "swin": SwinForImageClassification(
            SwinConfig(
                image_size=32,
                patch_size=4,
                embed_dim=8,
                depths=[1, 1],
                num_heads=[1, 2],
                window_size=4,
                **_labels(),
            )
        ),
    }
    paths = {}
    for name, model in models.items():
        paths[name] = root / name
        model.eval().save_pretrained(paths[name])
    # The CNN also carries a preprocessor config, as hub folders do: 64 px, mean/std 0.5.
    pre = {"size": {"shortest_edge": 64}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    (paths["cnn"] / "preprocessor_config.json").write_text(json.dumps(pre))
    return paths


@pytest.fixture(scope="session")
def make_sample() -> Callable[..., Sample]:
    """Build a Sample around a pixel array, as the loader would hand it to a labeler."""

    def make(key: str, pixels: np.ndarray | None) -> Sample:
        row = InputRow(row=1, id=key, image=f"{key}.jpg")
        return Sample(
            row=row, key=key, image=b"", image_ext="jpg", image_info={}, report=None, pixels=pixels
        )

    return make


@pytest.fixture(scope="session")
def random_image() -> Callable[[int, int, int], np.ndarray]:
    """Reproducible RGB uint8 images: random_image(seed, height, width)."""

    def make(seed: int, height: int, width: int) -> np.ndarray:
        return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)

    return make
