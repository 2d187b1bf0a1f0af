"""The load stage's cheap check of JPEGs written byte for byte: it keeps and rejects exactly
what the full decode keeps and rejects, with the same reasons."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from labelmill.pipelines.load import LoadOptions, load_sample
from labelmill.schemas.records import InputRow, RejectError

CHECKED = LoadOptions(image_ext="jpg")  # bytes kept, no pixels: the 1/8-scale check
DECODED = LoadOptions(image_ext="jpg", keep_pixels=True)  # a labeler wants pixels: full decode


def jpeg(size=(120, 80), mode="RGB", progressive=False, seed=0) -> bytes:
    tile = np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(tile).resize(size, Image.Resampling.BILINEAR).convert(mode)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, progressive=progressive)
    return out.getvalue()


def outcome(tmp_path, data: bytes, options: LoadOptions) -> tuple:
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    try:
        row = InputRow(row=1, id="a", image=str(path), base=str(tmp_path))  # the manifest folder
        sample = load_sample(row, "a", options)
    except RejectError as exc:
        return ("rejected", exc.reason)
    return ("written", sample.image, {k: v for k, v in sample.image_info.items()})


@pytest.mark.parametrize(
    "data", [jpeg(), jpeg(mode="L"), jpeg(progressive=True), jpeg((7, 5)), jpeg((640, 480))]
)
def test_kept_jpeg_is_written_as_the_full_decode_writes_it(tmp_path, data):
    checked = outcome(tmp_path, data, CHECKED)
    assert checked[0] == "written" and checked[1] == data
    assert checked == outcome(tmp_path, data, DECODED)
    width, height = Image.open(io.BytesIO(data)).size
    assert (checked[2]["width"], checked[2]["height"]) == (width, height)


def damaged(data: bytes, rng: random.Random) -> bytes:
    """One of: cut short, a header byte changed, scan bytes changed, a run zeroed, a cut."""
    out = bytearray(data)
    scan = data.index(b"\xff\xda")
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(out[: rng.randrange(2, len(out) - 1)])
    if kind == 1:
        out[rng.randrange(2, scan + 10)] = rng.randrange(256)
    elif kind == 2:
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(scan + 14, len(out) - 2)] = rng.randrange(256)
    elif kind == 3:
        start = rng.randrange(2, len(out) - 2)
        out[start : start + 64] = bytes(64)
    else:
        start = rng.randrange(2, len(out) - 2)
        del out[start : min(len(out) - 2, start + rng.randint(1, 200))]
    return bytes(out)


def test_damaged_jpegs_get_the_full_decodes_verdict_and_reason(tmp_path):
    rng = random.Random(0)
    originals = [jpeg(seed=1), jpeg((300, 200), "L", seed=2), jpeg(progressive=True, seed=3)]
    verdicts = {"rejected": 0, "written": 0}
    for original in originals:
        for _ in range(60):
            data = damaged(original, rng)
            checked = outcome(tmp_path, data, CHECKED)
            full = outcome(tmp_path, data, DECODED)
            assert checked[:2] == full[:2]
            verdicts[checked[0]] += 1
    assert verdicts["rejected"] > 30  # the damage is real: many are refused


def test_truncated_and_corrupt_kept_jpegs_are_rejected(tmp_path):
    data = jpeg()
    assert outcome(tmp_path, data[: len(data) // 2], CHECKED) == ("rejected", "truncated_image")
    corrupt = data[:20] + b"\x00" * 300
    assert outcome(tmp_path, corrupt, CHECKED) == ("rejected", "not_an_image")


def test_a_rotated_jpeg_is_still_decoded_and_rotated(tmp_path):
    image = Image.new("RGB", (80, 40), (10, 200, 10))
    exif = image.getexif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    written = outcome(tmp_path, out.getvalue(), CHECKED)
    assert written[1] != out.getvalue()
    assert (written[2]["width"], written[2]["height"]) == (40, 80)
    assert written[2]["transforms"] == ["exif_orientation_6"]
