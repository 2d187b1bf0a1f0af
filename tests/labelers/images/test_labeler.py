"""The image-model labeler on tiny random classifiers: map shapes and dtypes, top-k against a
dense reference, determinism, rejects, and the arrays' round trip through a shard."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch
import webdataset as wds

from labelmill.labelers import base
from labelmill.labelers.images.labeler import INDEX_ARRAY, SCORE_ARRAY, ImageModelLabeler
from labelmill.schemas.records import Reason, RejectError, Stage


@pytest.fixture(scope="module")
def labelers(tiny_models) -> dict[str, ImageModelLabeler]:
    made = {}
    for family in ("cnn", "vit"):
        made[family] = ImageModelLabeler(
            model=f"hf:{tiny_models[family]}", topk=3, map_size="native", device="cpu"
        )
        made[family].setup()
    return made


@pytest.mark.parametrize("family", ["cnn", "vit"])
def test_map_shapes_dtypes_and_records(family, labelers, make_sample, random_image) -> None:
    labeler = labelers[family]
    loaded = labeler._loaded
    shapes = [(40, 40), (30, 60), (90, 30)]
    samples = [make_sample(f"s{i}", random_image(i, h, w)) for i, (h, w) in enumerate(shapes)]
    records = labeler.label_batch(samples)
    assert len(records) == 3
    short, stride = loaded.image_size, loaded.stride
    expected_grids = [(short, short), (short, 2 * short), (3 * short, short)]
    for record, (h, w) in zip(records, expected_grids, strict=True):
        index, score = record.arrays[INDEX_ARRAY], record.arrays[SCORE_ARRAY]
        assert index.dtype == np.int16 and score.dtype == np.float16
        assert index.shape == score.shape == (3, h // stride, w // stride)
        assert record.meta["grid"] == [h // stride, w // stride]
        assert np.all(np.diff(score.astype(np.float32), axis=0) <= 0)  # best first
        assert record.source == f"image/{family}"
        assert len(record.labels) >= 3 and set(record.labels) == set(record.scores)
        assert set(record.labels.values()) == {1}
        assert [e["label"] for e in record.evidence] == list(record.scores)


@pytest.mark.parametrize("family", ["cnn", "vit"])
def test_topk_equals_dense_reference(family, labelers, make_sample, random_image) -> None:
    labeler = labelers[family]
    loaded = labeler._loaded
    pixels = random_image(7, 48, 80)
    record = labeler.label_batch([make_sample("a", pixels)])[0]
    size = tuple(record.meta["input_size"])
    # Independent reference: resize, normalise, full softmax map, sort every location.
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True)
    mean = torch.tensor(loaded.mean).view(1, 3, 1, 1)
    std = torch.tensor(loaded.std).view(1, 3, 1, 1)
    with torch.inference_mode():
        dense, pooled = loaded.net((x - mean) / std)
    probs = dense[0].softmax(0).numpy()
    order = np.argsort(-probs, axis=0, kind="stable")[:3]
    np.testing.assert_array_equal(record.arrays[INDEX_ARRAY], order)
    expected_scores = np.take_along_axis(probs, order, axis=0)
    np.testing.assert_allclose(record.arrays[SCORE_ARRAY], expected_scores, rtol=2e-3, atol=1e-4)
    global_probs = pooled[0].softmax(0).numpy()
    top = loaded.classes[int(global_probs.argmax())]
    assert next(iter(record.scores)) == top
    assert record.scores[top] == pytest.approx(float(global_probs.max()), rel=1e-5)


def test_default_map_is_15_by_15_for_any_aspect(tiny_models, make_sample, random_image) -> None:
    labeler = ImageModelLabeler(model=f"hf:{tiny_models['cnn']}", topk=2, device="cpu")
    records = labeler.label_batch(
        [make_sample("w", random_image(1, 32, 96)), make_sample("t", random_image(2, 96, 32))]
    )
    assert {r.arrays[INDEX_ARRAY].shape for r in records} == {(2, 15, 15)}
    assert labeler.describe()["map_size"] == 15


def test_map_size_resamples_to_a_square(tiny_models, make_sample, random_image) -> None:
    labeler = ImageModelLabeler(model=f"hf:{tiny_models['cnn']}", topk=2, map_size=5)
    records = labeler.label_batch(
        [make_sample("w", random_image(1, 30, 70)), make_sample("t", random_image(2, 50, 40))]
    )
    for record in records:
        assert record.arrays[INDEX_ARRAY].shape == (2, 5, 5)
        assert record.arrays[SCORE_ARRAY].shape == (2, 5, 5)
        assert record.meta["map_shape"] == [2, 5, 5]


def test_same_inputs_give_same_bytes(tiny_models, make_sample, random_image) -> None:
    def run() -> list[bytes]:
        labeler = ImageModelLabeler(model=f"hf:{tiny_models['vit']}", topk=4, batch_size=2)
        samples = [make_sample(f"k{i}", random_image(i, 33 + i, 50)) for i in range(5)]
        out = []
        for record in labeler.label_batch(samples):
            for name in (INDEX_ARRAY, SCORE_ARRAY):
                out.append(record.arrays[name].tobytes())
            out.append(repr(record.to_json()).encode())
        return out

    assert run() == run()


def test_bad_pixels_are_rejected_with_reasons(labelers, make_sample, random_image) -> None:
    labeler = labelers["cnn"]
    bad = {
        "none": None,
        "float": np.zeros((8, 8, 3), dtype=np.float32),
        "gray": np.zeros((8, 8), dtype=np.uint8),
        "rgba": np.zeros((8, 8, 4), dtype=np.uint8),
        "empty": np.zeros((0, 8, 3), dtype=np.uint8),
    }
    for key, pixels in bad.items():
        with pytest.raises(RejectError) as caught:
            labeler.check(make_sample(key, pixels))
        assert (caught.value.stage, caught.value.reason) == (Stage.LABEL, Reason.NOT_AN_IMAGE)
        assert key in caught.value.detail
    # A bad sample fails the call before any inference; alone, a good one labels fine.
    good = make_sample("good", random_image(0, 20, 20))
    with pytest.raises(RejectError, match="rgba"):
        labeler.label_batch([good, make_sample("rgba", bad["rgba"])])
    assert len(labeler.label_batch([good])) == 1


def test_arrays_round_trip_through_npy_and_webdataset(
    labelers, make_sample, random_image, tmp_path
) -> None:
    records = labelers["vit"].label_batch(
        [make_sample(f"img{i}", random_image(i, 40, 60)) for i in range(3)]
    )
    shard = tmp_path / "maps-000000.tar"
    with wds.TarWriter(str(shard)) as sink:
        for i, record in enumerate(records):
            sample = {"__key__": f"img{i}"}
            for name, array in record.arrays.items():
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                again = np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False)
                assert again.dtype == array.dtype and np.array_equal(again, array)
                sample[f"{name}.npy"] = buffer.getvalue()
            sink.write(sample)
    read = list(wds.WebDataset(str(shard), shardshuffle=False).decode())
    assert [s["__key__"] for s in read] == ["img0", "img1", "img2"]
    for sample, record in zip(read, records, strict=True):
        for name, array in record.arrays.items():
            assert sample[f"{name}.npy"].dtype == array.dtype
            np.testing.assert_array_equal(sample[f"{name}.npy"], array)


def test_describe_pickle_and_registry(tiny_models) -> None:
    labeler = base.create(
        "image_model", {"model": f"hf:{tiny_models['cnn']}", "topk": 2, "map_size": 15}
    )
    assert isinstance(labeler, ImageModelLabeler) and labeler.needs_pixels
    info = labeler.describe()
    assert info["classes"] == [f"class {i}" for i in range(12)]
    assert (info["model"], info["topk"], info["map_size"]) == (f"hf:{tiny_models['cnn']}", 2, 15)
    assert info["preprocessing"]["image_size"] == 64
    assert info["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
    # Workers get options only: the loaded model stays behind.
    state = labeler.__getstate__()
    assert state["_loaded"] is None and state["model"] == labeler.model
    assert len(pickle.dumps(labeler)) < 4096


@pytest.mark.parametrize(
    "options",
    [{"topk": 0}, {"batch_size": 0}, {"map_size": 0}, {"threshold": 1.5}, {"model": "nope"}],
)
def test_bad_options_fail_at_construction(options) -> None:
    with pytest.raises(ValueError):
        ImageModelLabeler(**options)


CHEST_CLASSES = ["pleural effusion", "pneumothorax", "golden retriever", "hydropneumothorax"]


def test_class_names_map_onto_an_ontology(tmp_path, make_sample, random_image, monkeypatch):
    from labelmill.testing.models import save_tiny_classifier

    monkeypatch.setenv("LABELMILL_CACHE", str(tmp_path / "cache"))
    folder = save_tiny_classifier(tmp_path / "chest", CHEST_CLASSES)
    plain = ImageModelLabeler(f"hf:{folder}", topk=4, threshold=0.0, map_size=4)
    mapped = ImageModelLabeler(f"hf:{folder}", topk=4, threshold=0.0, ontology="chestxray14")
    sample = make_sample("a", random_image(0, 40, 48))
    raw, record = plain.label_batch([sample])[0], mapped.label_batch([sample])[0]
    p = raw.scores
    assert set(p) == set(CHEST_CLASSES)
    assert record.labels == {"Effusion": 1, "Pneumothorax": 1}
    # A label's score is the softmax mass of every class mapped onto it.
    effusion = p["pleural effusion"] + p["hydropneumothorax"]
    assert record.scores["Effusion"] == pytest.approx(effusion, rel=1e-5)
    pneumothorax = p["pneumothorax"] + p["hydropneumothorax"]
    assert record.scores["Pneumothorax"] == pytest.approx(pneumothorax, rel=1e-5)
    by_class = {e["label"]: e["maps_to"] for e in record.evidence}
    assert by_class["golden retriever"] == [] and by_class["pleural effusion"] == ["Effusion"]
    described = mapped.describe()
    assert described["ontology"] == "chestxray14" and described["unmapped_classes"] == 1
    assert described["class_map"]["hydropneumothorax"] == ["Effusion", "Pneumothorax"]
    # A mapping handed in (a build's Harmonize step) is used as given.
    key = f"chestxray14 <- hf:{folder}"
    given = {key: {"pleural effusion": ["Nodule"]}}
    handed = ImageModelLabeler(
        f"hf:{folder}", topk=4, threshold=0.0, ontology="chestxray14", class_maps=given
    )
    assert handed.label_batch([sample])[0].labels == {"Nodule": 1}
    with pytest.raises(ValueError, match="ontology"):
        ImageModelLabeler(f"hf:{folder}", ontology=3)
