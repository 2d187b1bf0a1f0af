"""One image model per worker process: labelers (one per DoFn thread) share the loaded model."""

from __future__ import annotations

import copy

from labelmill.labelers.images.labeler import ImageModelLabeler


def test_labelers_in_one_process_share_one_model(tiny_models) -> None:
    spec = f"hf:{tiny_models['cnn']}"
    first, second = (ImageModelLabeler(model=spec, device="cpu") for _ in range(2))
    first.setup()
    shipped = copy.deepcopy(second)  # state as a worker receives it (options only)
    shipped.setup()
    assert shipped._loaded is first._loaded and shipped._loaded.net is first._loaded.net
    other = ImageModelLabeler(model=f"hf:{tiny_models['vit']}", device="cpu")
    other.setup()
    assert other._loaded is not first._loaded

