"""Input sizing, normalisation, top-k maps and global label selection, against hand results."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labelmill.labelers.images.dense import check_class_count, kept_classes, topk_map
from labelmill.labelers.images.preprocess import Normalizer, group_by_size, input_size


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((300, 451), (224, 352)),  # aspect 1.5 -> 336, nearest multiple of 32 is 352
        ((451, 300), (352, 224)),
        ((224, 224), (224, 224)),
        ((100, 1000), (224, 672)),  # aspect 10 capped at 3
        ((240, 250), (224, 224)),
    ],
)
def test_input_size_keeps_aspect_on_the_stride_grid(shape, expected) -> None:
    assert input_size(*shape, short=224, stride=32) == expected


def test_group_by_size_is_sorted_and_keeps_positions() -> None:
    groups = group_by_size([(300, 600), (50, 50), (310, 590), (60, 60)], short=32, stride=16)
    assert groups == {(32, 32): [1, 3], (32, 64): [0, 2]}


def test_normalizer_resizes_and_normalises() -> None:
    normalize = Normalizer(mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 1.0), device=torch.device("cpu"))
    flat = np.full((6, 6, 3), 255, dtype=np.uint8)
    other = np.zeros((4, 8, 3), dtype=np.uint8)
    batch = normalize([flat, other, flat], (3, 3))
    assert batch.shape == (3, 3, 3, 3)
    assert batch.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(batch[0, :, 0, 0].numpy(), [1.0, 3.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(batch[1, :, 1, 1].numpy(), [-1.0, -1.0, 0.0], atol=1e-6)
    torch.testing.assert_close(batch[2], batch[0])


def test_topk_map_orders_classes_and_resamples() -> None:
    probs = torch.tensor([[0.1, 0.7], [0.6, 0.2], [0.3, 0.1]]).reshape(1, 3, 1, 2)
    score, index = topk_map(probs, 2, None)
    assert index[0, :, 0].tolist() == [[1, 0], [2, 1]]
    torch.testing.assert_close(score[0, :, 0], torch.tensor([[0.6, 0.7], [0.3, 0.2]]))
    score, index = topk_map(probs, 1, 4)
    assert score.shape == index.shape == (1, 1, 4, 4)
    assert index[0, 0, :, 0].tolist() == [1] * 4 and index[0, 0, :, -1].tolist() == [0] * 4


def test_kept_classes_are_topk_plus_threshold_in_order() -> None:
    probs = np.array([0.05, 0.3, 0.3, 0.25, 0.1], dtype=np.float32)
    assert kept_classes(probs, 2, 0.5) == [1, 2]  # tie broken by class id
    assert kept_classes(probs, 1, 0.2) == [1, 2, 3]
    assert kept_classes(probs, 5, 1.0) == [1, 2, 3, 4, 0]


def test_class_count_must_fit_int16() -> None:
    check_class_count(32768)
    with pytest.raises(ValueError, match="int16"):
        check_class_count(32769)


def test_normalizer_matches_resize_then_affine_of_one_shape_exactly() -> None:
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    normalize = Normalizer(mean=mean, std=std, device=torch.device("cpu"))
    images = [np.random.default_rng(i).integers(0, 255, (37, 53, 3), np.uint8) for i in range(3)]
    batch = normalize(images, (16, 24))
    raw = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    resized = torch.nn.functional.interpolate(
        raw, size=(16, 24), mode="bilinear", align_corners=False, antialias=True
    )
    expected = resized * normalize.scale + normalize.shift
    assert torch.equal(batch, expected)
    assert batch.is_contiguous(memory_format=torch.channels_last)
