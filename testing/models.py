"""Tiny image classifiers built from a config, saved as `save_pretrained` folders for tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def save_tiny_classifier(folder: Path, class_names: Sequence[str], seed: int = 0) -> Path:
    """A random two-stage ResNet whose classes are `class_names`, saved to `folder`."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification

    torch.manual_seed(seed)
    id2label = dict(enumerate(class_names))
    config = ResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        layer_type="basic",
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    ResNetForImageClassification(config).eval().save_pretrained(folder)
    return folder
