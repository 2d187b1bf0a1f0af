"""The `{key}.json` bytes: parts as JSON text in one fixed layout, encoded exactly as
`json.dumps(..., sort_keys=True, ensure_ascii=False)` of the nested document would."""

from __future__ import annotations

import json

import pytest

from labelmill.schemas.sample import decode_sample_json, encode_sample_json


def dumps(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def reference(document):
    image = dict(document["image"])
    image.update({k: dumps(image[k]) for k in ("transforms", "dicom")})
    parts = {k: dumps(document[k]) for k in ("meta", "records")}
    parts["final"] = dumps(document["final"] or {})
    return dumps({**document, **parts, "image": image}).encode("utf-8")


def document(**parts):
    base = {
        "id": "patient/ü 1",
        "key": "patient_1_abc",
        "row": 3,
        "image": {"format": "jpg", "width": 4, "height": 2, "transforms": [], "dicom": {}},
        "report": {"present": True, "source": "inline", "chars": 9},
        "meta": {},
        "records": [],
        "final": None,
    }
    return {**base, **parts}


@pytest.mark.parametrize(
    "doc",
    [
        document(),
        document(meta={"site": "B", "age": 40}, final={"labels": {"Edema": 1}}),
        document(records=[{"source": "r", "labels": {"Mass": -1}, "evidence": ["“quote”"]}]),
        document(image={"format": "png", "transforms": ["resize_8x4"], "dicom": {"frames": 1}}),
    ],
)
def test_encoding_matches_the_nested_dumps_and_decodes_back(doc):
    data = encode_sample_json(doc)
    assert data == reference(doc)
    assert decode_sample_json(data) == {**doc, "final": doc["final"] or None}


def test_non_finite_numbers_are_refused():
    with pytest.raises(ValueError):
        encode_sample_json(document(meta={"x": float("nan")}))
