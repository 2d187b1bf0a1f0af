"""Spec strings: parsing, names, local weights, the timm extra's error, and class names."""

from __future__ import annotations

import builtins

import pytest
import torch
from safetensors.torch import save_file

from labelmill.labelers.images.efficientnet_lite import EfficientNetLite0
from labelmill.labelers.images.specs import (
    class_names,
    load_model,
    load_weights,
    spec_name,
    unique_names,
)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("imagenet-demo", "efficientnet_lite0"),
        ("hf:google/vit-base-patch16-224", "vit-base-patch16-224"),
        ("hf:/models/my-cnn/", "my-cnn"),
        ("timm:resnet50@/w/r50.safetensors", "resnet50"),
        ("arch:efficientnet_lite0@/w/lite0.pth", "efficientnet_lite0"),
    ],
)
def test_spec_names(spec: str, name: str) -> None:
    assert spec_name(spec) == name


@pytest.mark.parametrize("spec", ["", "resnet50", "hf:", "onnx:model.onnx", "imagenet"])
def test_bad_specs_say_which_forms_exist(spec: str) -> None:
    with pytest.raises(ValueError, match="hf:ID_OR_FOLDER"):
        load_model(spec)


def test_specs_needing_weights_say_so() -> None:
    with pytest.raises(ValueError, match="NAME@WEIGHTS"):
        load_model("arch:efficientnet_lite0")
    with pytest.raises(ValueError, match="unknown architecture 'resnet9'"):
        load_model("arch:resnet9@/nowhere.pth")
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_model("arch:efficientnet_lite0@/nowhere.pth")


def test_arch_spec_loads_a_local_safetensors_state_dict(tmp_path) -> None:
    torch.manual_seed(0)
    model = EfficientNetLite0(num_classes=7).eval()
    path = tmp_path / "lite0.safetensors"
    save_file(model.state_dict(), str(path))
    loaded = load_model(f"arch:efficientnet_lite0@{path}")
    assert loaded.classes == [f"class_{i}" for i in range(7)]
    assert (loaded.image_size, loaded.stride) == (224, 32)
    x = torch.randn(1, 3, 64, 96)
    with torch.inference_mode():
        dense, pooled = loaded.net(x)
        torch.testing.assert_close(pooled, model(x), rtol=1e-4, atol=1e-5)
    assert dense.shape == (1, 7, 2, 3)


def test_weights_files_must_hold_only_tensors(tmp_path) -> None:
    path = tmp_path / "mixed.pt"
    torch.save({"w": torch.zeros(2), "note": "not a tensor"}, path)
    with pytest.raises(ValueError, match="flat state dict"):
        load_weights(path)


def test_timm_spec_without_timm_explains_the_extra(monkeypatch, tmp_path) -> None:
    real_import = builtins.__import__

    def no_timm(name, *args, **kwargs):
        if name == "timm" or name.startswith("timm."):
            raise ImportError("No module named 'timm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_timm)
    with pytest.raises(ImportError, match=r"labelmill\[timm\].*torchvision"):
        load_model(f"timm:resnet18@{tmp_path / 'r18.safetensors'}")


def test_class_names_are_unique_label_keys() -> None:
    names = class_names(1000)
    assert len(set(names)) == 1000
    assert names[285] == "Egyptian cat" and names[967] == "espresso"
    assert names[134] == "crane (134)" and names[517] == "crane (517)"
    assert unique_names(["a", "b", "a"]) == ["a (0)", "b", "a (2)"]
    assert class_names(3) == ["class_0", "class_1", "class_2"]
