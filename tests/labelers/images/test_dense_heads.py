"""Dense heads: per-location logits equal the classifier applied location by location, and the
pooled logits equal the model's own prediction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labelmill.labelers.images.dense_heads import ConvDense, linear_head, probe_stride
from labelmill.labelers.images.specs import load_model


def _hf_reference(model: nn.Module, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Logits per location, one location at a time, straight from the model's own modules."""
    hidden = model.base_model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state
    head = linear_head(model.classifier)
    h, w = grid
    ref = torch.empty(len(x), head.out_features, h, w)
    for i in range(h):
        for j in range(w):
            if hidden.ndim == 4:
                feature = hidden[:, :, i, j]
                if model.config.model_type == "convnext":
                    feature = model.base_model.layernorm(feature)
            else:
                feature = hidden[:, hidden.shape[1] - h * w + i * w + j]
            ref[:, :, i, j] = head(feature)
    return ref


@pytest.mark.parametrize("family", ["cnn", "convnext", "vit", "swin"])
def test_hf_dense_matches_per_location_reference(family: str, tiny_models) -> None:
    loaded = load_model(f"hf:{tiny_models[family]}")
    model = loaded.net.model
    size = loaded.image_size
    x = torch.randn(2, 3, size, 2 * size, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        dense, pooled = loaded.net(x)
        expected = _hf_reference(model, x, tuple(dense.shape[-2:]))
        own = model(pixel_values=x, interpolate_pos_encoding=True).logits
    assert dense.shape == (2, 12, size // loaded.stride, 2 * size // loaded.stride)
    torch.testing.assert_close(dense, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(pooled, own, rtol=1e-5, atol=1e-5)


def test_conv_dense_pooled_is_mean_of_dense() -> None:
    torch.manual_seed(0)
    features = nn.Conv2d(3, 6, 4, stride=4)
    head = nn.Linear(6, 5)
    net = ConvDense(features, head).eval()
    x = torch.randn(3, 3, 16, 24)
    with torch.inference_mode():
        dense, pooled = net(x)
        expected_pooled = head(features(x).mean(dim=(2, 3)))
        expected_cell = head(features(x)[:, :, 2, 5])
    assert dense.shape == (3, 5, 4, 6)
    torch.testing.assert_close(pooled, expected_pooled)
    torch.testing.assert_close(dense[:, :, 2, 5], expected_cell)
    assert probe_stride(net, 32) == 4


def test_linear_head_rejects_heads_it_cannot_apply_per_location() -> None:
    assert isinstance(linear_head(nn.Sequential(nn.Flatten(), nn.Linear(4, 2))), nn.Linear)
    with pytest.raises(ValueError, match="one Linear layer"):
        linear_head(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)))
