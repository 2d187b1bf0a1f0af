"""`imagenet-demo` on real photos: EfficientNet-Lite0 with its shipped ImageNet weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from labelmill.labelers.images.efficientnet_lite import SameConv2d
from labelmill.labelers.images.labeler import INDEX_ARRAY, SCORE_ARRAY, ImageModelLabeler
from labelmill.labelers.images.specs import class_names

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def demo() -> ImageModelLabeler:
    labeler = ImageModelLabeler(model="imagenet-demo", device="cpu")
    labeler.setup()
    return labeler


def _region_top(record, columns: slice) -> str:
    """The class with the most probability mass in the stored top-k map over some columns."""
    index = record.arrays[INDEX_ARRAY][:, :, columns].ravel()
    score = record.arrays[SCORE_ARRAY][:, :, columns].astype(np.float64).ravel()
    return class_names(1000)[int(np.bincount(index, weights=score, minlength=1000).argmax())]


def test_real_photos_get_their_classes(demo, make_sample) -> None:
    chelsea, coffee = demo.label_batch(
        [
            make_sample("chelsea", skimage_data.chelsea()),
            make_sample("coffee", skimage_data.coffee()),
        ]
    )
    assert next(iter(chelsea.scores)) == "Egyptian cat"
    assert next(iter(coffee.scores)) == "espresso"
    assert coffee.scores["espresso"] > 0.5
    assert chelsea.source == "image/efficientnet_lite0"


def test_each_half_of_a_composite_carries_its_own_photo(demo, make_sample) -> None:
    cat = skimage_data.chelsea()
    cup = np.asarray(Image.fromarray(skimage_data.coffee()).resize((450, 300), Image.BILINEAR))
    record = demo.label_batch([make_sample("composite", np.concatenate([cat, cup], axis=1))])[0]
    h, w = record.meta["grid"]
    assert (h, w) == (7, 21)
    assert _region_top(record, slice(0, w // 2)) == "Egyptian cat"
    assert _region_top(record, slice(w - w // 2, w)) == "espresso"
    assert {"Egyptian cat", "espresso"} <= set(record.scores)
    peaks = {e["label"]: e["peak_yx"][1] for e in record.evidence}
    assert peaks["Egyptian cat"] < 0.5 < peaks["espresso"]


def test_same_padding_pads_like_tensorflow() -> None:
    conv = SameConv2d(1, 1, 3, stride=2, bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # TensorFlow "same" for an even input and stride 2 pads only the bottom and right.
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, [0, 1, 0, 1]), conv.weight, stride=2
    )
    torch.testing.assert_close(conv(x), expected)
    assert conv(torch.zeros(1, 1, 5, 5)).shape == (1, 1, 3, 3)
