"""RoIAlign against hand computations, and LabelPooling on hand-made maps with known targets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from labelmill.labelers.images.pooling import LabelPooling, roi_align
from labelmill.labelers.images.relabel_export import to_relabel

GRID = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])  # one channel, 2x2


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((0.0, 0.0, 2.0, 2.0), 2.5),  # 2x2 samples exactly on the four cell centres
        ((0.0, 0.0, 1.0, 1.0), 1.0),  # one sample on the centre of cell (0, 0)
        ((0.5, 0.5, 1.5, 1.5), 2.5),  # one sample between all four centres
        ((0.25, 0.0, 1.25, 1.0), 1.25),  # x = 0.25 cells right of centre 0: 0.75 * 1 + 0.25 * 2
        # 3x3 samples at 1.0, 2.0, 3.0 per axis: up to 2.0 the border cell, 3.0 is outside
        ((1.0, 1.0, 4.0, 4.0), 4 * 4.0 / 9),
        ((-3.0, 0.0, -2.0, 1.0), 0.0),  # more than one cell outside: nothing
    ],
)
def test_roi_align_matches_hand_computation(box, expected) -> None:
    out = roi_align(GRID, box)
    assert out.shape == (1, 1, 1)
    assert out.item() == pytest.approx(expected)


def test_roi_align_bins() -> None:
    out = roi_align(GRID, (0.0, 0.0, 2.0, 2.0), output_size=(2, 2))
    np.testing.assert_allclose(out[0].numpy(), GRID[0].numpy())


def _map(logits: np.ndarray, ids: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack([logits, ids]).astype(np.float32))


def test_label_pooling_left_and_right_halves() -> None:
    # 1 x 4 map, k = 1: class 0 on the left half, class 2 on the right, logit 2 everywhere.
    logits = np.full((1, 1, 4), 2.0)
    ids = np.array([[[0, 0, 2, 2]]])
    pooling = LabelPooling(num_classes=3)
    e = math.e**2
    left = pooling(_map(logits, ids), (0.0, 0.0, 0.5, 1.0))
    np.testing.assert_allclose(left.numpy(), [e / (e + 2), 1 / (e + 2), 1 / (e + 2)], rtol=1e-6)
    whole = pooling(_map(logits, ids), (0.0, 0.0, 1.0, 1.0))
    # Pooled logits [1, 0, 1]: the crop holds both classes equally.
    np.testing.assert_allclose(
        whole.numpy(), np.exp([1, 0, 1]) / np.exp([1, 0, 1]).sum(), rtol=1e-6
    )


def test_label_pooling_flip_mirrors_spatial_targets() -> None:
    logits = np.full((1, 1, 4), 3.0)
    ids = np.array([[[0, 0, 1, 1]]])
    pooling = LabelPooling(num_classes=2, output_size=(1, 2))
    plain = pooling(_map(logits, ids), (0.0, 0.0, 1.0, 1.0))
    flipped = pooling(_map(logits, ids), (0.0, 0.0, 1.0, 1.0), flipped=True)
    assert plain.shape == (2, 1, 2)
    assert plain[0, 0, 0] > 0.9 and plain[1, 0, 1] > 0.9
    torch.testing.assert_close(flipped, plain.flip(-1))


def test_label_pooling_equals_scatter_roi_align_softmax() -> None:
    # ReLabel's own recipe, built densely, on a random map with k = 3 of 10 classes.
    rng = np.random.default_rng(0)
    k, h, w, classes = 3, 5, 6, 10
    ids = np.stack([rng.permutation(classes)[:k] for _ in range(h * w)], axis=1).reshape(k, h, w)
    logits = rng.normal(size=(k, h, w))
    box = (0.13, 0.2, 0.71, 0.94)
    dense = torch.zeros(classes, h, w, dtype=torch.float64)
    dense.scatter_(0, torch.from_numpy(ids), torch.from_numpy(logits))
    cells = (box[0] * w, box[1] * h, box[2] * w, box[3] * h)
    expected = roi_align(dense, cells)[:, 0, 0].softmax(0)
    got = LabelPooling(classes)(_map(logits, ids), box)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5)


def test_pooling_a_stored_map_recovers_its_probabilities() -> None:
    # A uniform map of probabilities: any crop's target is the per-location distribution.
    score = np.broadcast_to(np.array([0.625, 0.25], dtype=np.float16)[:, None, None], (2, 3, 3))
    index = np.broadcast_to(np.array([4, 1], dtype=np.int16)[:, None, None], (2, 3, 3))
    relabel = to_relabel(index, score, num_classes=5)
    target = LabelPooling(5)(torch.from_numpy(relabel), (0.1, 0.2, 0.6, 0.9)).numpy()
    rest = 0.125 / 3
    np.testing.assert_allclose(target, [rest, 0.25, rest, rest, 0.625], rtol=1e-5)
