"""The layout of each sample's `{key}.json` member.

Hugging Face `datasets` infers one Arrow schema from a WebDataset's first samples and casts
every later sample to it, so this layout never varies: the same keys in every sample, no nulls,
and no dicts keyed by data. The parts whose shape depends on the data (the manifest's extra
columns, the label records, the final record, DICOM details, transforms) are JSON text;
`decode_sample_json` turns them back into objects.
"""

from __future__ import annotations

import json
from typing import Any

from labelmill.schemas.records import Sample

IMAGE_FIELDS = (
    "format",
    "width",
    "height",
    "bytes",
    "sha256",
    "source",
    "original_format",
    "original_width",
    "original_height",
    "original_mode",
)
JSON_TEXT_FIELDS = ("meta", "records", "final")


# One encoder for every call: `json.dumps` with options builds a new encoder each time, and a
# sample's JSON takes six encodes (five parts as text, then the document).
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False).encode
_EMPTY = {dict: "{}", list: "[]"}  # the common empty parts, without an encoder call


def _text(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)`, faster."""
    if not value and type(value) in _EMPTY:
        return _EMPTY[type(value)]
    return _ENCODE(value)


def sample_document(sample: Sample) -> dict[str, Any]:
    """A sample's JSON document in its decoded form: ids, metadata, image and report info,
    every label record and the final record."""
    info = sample.image_info
    report = sample.report_info
    return {
        "id": sample.row.id,
        "key": sample.key,
        "row": sample.row.row,
        "image": {
            **{field: info[field] for field in IMAGE_FIELDS},
            "transforms": list(info.get("transforms", [])),
            "dicom": dict(info.get("dicom", {})),
        },
        "report": {
            "present": bool(report.get("present")),
            "source": str(report.get("source", "")),
            "chars": int(report.get("chars", 0)),
        },
        "meta": sample.row.meta,
        "records": [record.to_json() for record in sample.records],
        "final": sample.final,
    }


def encode_sample_json(document: dict[str, Any]) -> bytes:
    """The `{key}.json` member bytes for a decoded document (the inverse of decoding)."""
    encoded = {
        **document,
        "meta": _text(document["meta"]),
        "records": _text(document["records"]),
        "final": _text(document["final"] or {}),
    }
    image = dict(document["image"])
    image["transforms"] = _text(image["transforms"])
    image["dicom"] = _text(image["dicom"])
    encoded["image"] = image
    return _text(encoded).encode("utf-8")


def decode_sample_json(data: dict[str, Any] | bytes | str) -> dict[str, Any]:
    """A `{key}.json` member (raw or already parsed) with its JSON-text parts parsed."""
    value = json.loads(data) if isinstance(data, bytes | str) else dict(data)
    for field in JSON_TEXT_FIELDS:
        value[field] = json.loads(value[field])
    value["final"] = value["final"] or None
    image = dict(value["image"])
    image["transforms"] = json.loads(image["transforms"])
    image["dicom"] = json.loads(image["dicom"])
    value["image"] = image
    return value
