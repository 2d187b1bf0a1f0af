"""Classifiers rewrapped to predict at every location of the feature map, not only after pooling.

Every wrapper is a module whose forward returns `(dense, pooled)`: logits per location
`[B, K, h, w]` on the feature grid and the model's own global logits `[B, K]`. For CNNs the final
linear layer is applied as a 1x1 convolution to the map before global pooling; for vision
transformers the head is applied to every patch token. "Re-labeling ImageNet" (Yun et al., 2021)
showed that these per-location predictions turn one label per image into localized multi-labels.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def linear_head(head: nn.Module) -> nn.Linear:
    """The one Linear layer of a classifier head that may wrap it in Flatten/Dropout/Identity."""
    if isinstance(head, nn.Linear):
        return head
    parts = list(head.children()) if isinstance(head, nn.Sequential) else [head]
    linears = [p for p in parts if isinstance(p, nn.Linear)]
    others = [
        p for p in parts if not isinstance(p, nn.Linear | nn.Flatten | nn.Dropout | nn.Identity)
    ]
    if len(linears) != 1 or others:
        raise ValueError(
            f"unsupported classifier head {type(head).__name__}: need one Linear layer"
        )
    return linears[0]


class ConvDense(nn.Module):
    """A CNN given as `features` (map before pooling) and a linear head after average pooling.

    Average pooling commutes with the linear head, so the global logits are the mean of the dense
    logits: one head application serves both outputs.
    """

    def __init__(self, features: Callable[[torch.Tensor], torch.Tensor], head: nn.Linear) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weight = self.head.weight[:, :, None, None]
        dense = F.conv2d(self.features(x), weight, self.head.bias)
        return dense, dense.mean(dim=(2, 3))


class HfDense(nn.Module):
    """A transformers `*ForImageClassification` model: CNN families and ViT-like token models.

    CNNs (ResNet, RegNet, ConvNeXt, ...) return a `[B, C, h, w]` map; ConvNeXt normalises after
    pooling, so its layer norm is applied per location too. Token models (ViT, DeiT, Swin) return
    `[B, N, D]` with the patch tokens last, after any class/distillation tokens.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.base = model.base_model
        self.head = linear_head(model.classifier)
        config = model.config
        self.norm = self.base.layernorm if config.model_type.startswith("convnext") else None
        patch = getattr(config, "patch_size", None)
        depths = getattr(config, "depths", None)
        self.token_stride = patch * 2 ** (len(depths) - 1) if patch and depths else patch
        accepted = inspect.signature(self.base.forward).parameters
        self.base_kwargs = (
            {"interpolate_pos_encoding": True} if "interpolate_pos_encoding" in accepted else {}
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.base(pixel_values=x, **self.base_kwargs)
        hidden, pooled = out.last_hidden_state, out.pooler_output
        if hidden.ndim == 4:
            per_location = hidden.permute(0, 2, 3, 1)
            if self.norm is not None:
                per_location = self.norm(per_location)
        else:
            h, w = x.shape[-2] // self.token_stride, x.shape[-1] // self.token_stride
            per_location = hidden[:, hidden.shape[1] - h * w :].reshape(len(x), h, w, -1)
            if pooled is None:
                pooled = hidden[:, 0]
        dense = self.head(per_location).permute(0, 3, 1, 2)
        return dense, self.head(pooled.flatten(1))


class TimmDense(nn.Module):
    """A timm model, whose `forward_head` holds pooling, norm and classifier for any family.

    Each location is fed to `forward_head` as a one-location input (a 1x1 map, or a token sequence
    that repeats one patch token), so global pooling is the identity and every norm and linear
    layer of the head applies exactly as after pooling.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.prefix = int(getattr(model, "num_prefix_tokens", 0))
        self.token_stride = self._patch_stride(model)

    @staticmethod
    def _patch_stride(model: nn.Module) -> int | None:
        patch_embed = getattr(model, "patch_embed", None)
        size = getattr(patch_embed, "patch_size", None)
        return int(size[0] if isinstance(size, tuple | list) else size) if size else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.model.forward_features(x)
        pooled = self.model.forward_head(feats)
        if feats.ndim == 4:
            b, c, h, w = feats.shape
            cells = feats.permute(0, 2, 3, 1).reshape(b * h * w, c, 1, 1)
        else:
            h, w = x.shape[-2] // self.token_stride, x.shape[-1] // self.token_stride
            b, d = len(x), feats.shape[-1]
            patches = feats[:, feats.shape[1] - h * w :].reshape(b * h * w, 1, d)
            cells = patches.expand(-1, self.prefix + 1, -1)
        dense = self.model.forward_head(cells).reshape(b, h, w, -1).permute(0, 3, 1, 2)
        return dense, pooled


def probe_stride(model: nn.Module, size: int) -> int:
    """Input pixels per map cell, from one forward pass on a blank square input."""
    with torch.inference_mode():
        dense, _ = model(torch.zeros(1, 3, size, size))
    return max(1, math.ceil(size / dense.shape[-1]))
