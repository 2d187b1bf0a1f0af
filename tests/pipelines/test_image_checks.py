"""Hostile and unusual images, generated here: each is written with what was done to it recorded,
or rejected with a reason that names it; never decoded past max_pixels, never misrouted."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pydicom
import pytest
from PIL import Image, PngImagePlugin, features
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from labelmill.pipelines.image_checks import is_dicom
from labelmill.pipelines.load import LoadOptions, load_sample
from labelmill.schemas.records import InputRow, RejectError


def load(tmp_path, name: str, data: bytes, **options):
    (tmp_path / name).write_bytes(data)
    return load_sample(InputRow(1, "a", name, base=str(tmp_path)), "k", LoadOptions(**options))


def rejected(tmp_path, name: str, data: bytes, **options) -> RejectError:
    with pytest.raises(RejectError) as caught:
        load(tmp_path, name, data, **options)
    return caught.value


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def wide_png(width: int, height: int = 1) -> bytes:
    """A valid grayscale PNG of width x height zeros (compresses to about width / 1000 bytes)."""
    raw = zlib.compress((b"\0" + bytes(width)) * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def dicom(rows: int, columns: int, pixels: bytes, frames: int = 1, rgb16: bool = False) -> bytes:
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "OT", rows, columns
    ds.SamplesPerPixel = 3 if rgb16 else 1
    ds.PhotometricInterpretation = "RGB" if rgb16 else "MONOCHROME2"
    if rgb16:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = pixels
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def decoded(sample) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(sample.image)))


def test_80_million_by_1_png_is_written_or_rejected_by_name(tmp_path):
    data = wide_png(80_000_000)
    assert load(tmp_path, "wide.png", data).image_info["original_width"] == 80_000_000
    for options, reason in [
        ({"max_pixels": 1_000_000}, "decompression_bomb"),
        ({"image_ext": "jpg"}, "image_too_large"),
        ({"max_image_side": 256}, "decompression_bomb"),  # the resize runs out of memory
    ]:
        error = rejected(tmp_path, "wide.png", data, **options)
        assert error.reason == reason and "80000000x1" in error.detail, error.detail


def test_png_with_dicm_at_offset_128_is_decoded_as_png(tmp_path):
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 79 + "DICM")
    Image.new("L", (8, 8), 7).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    assert data[128:132] == b"DICM" and not is_dicom(data, "scan.dcm")
    sample = load(tmp_path, "scan.dcm", data)
    assert sample.image_info["original_format"] == "png"


def test_exif_orientation_9_is_ignored_and_says_so(tmp_path):
    image = Image.new("RGB", (40, 20), (1, 2, 3))
    exif = image.getexif()
    exif[0x0112] = 9
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    sample = load(tmp_path, "odd.jpg", out.getvalue())
    assert not any(t.startswith("exif_orientation") for t in sample.image_info["transforms"])
    assert sample.image_info["exif_orientation_ignored"] == "9"
    assert (sample.image_info["width"], sample.image_info["height"]) == (40, 20)


def frames_of(kind: str) -> bytes:
    frames = [Image.new("RGB", (12, 12), (i * 80, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, kind, save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize("kind,name", [("GIF", "a.gif"), ("TIFF", "a.tif"), ("WEBP", "a.webp")])
def test_several_frames_record_the_first_frame_policy(tmp_path, kind, name):
    if kind == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without animated WebP")
    sample = load(tmp_path, name, frames_of(kind))
    info = sample.image_info
    assert info["frames"] == 3 and info["frame_policy"] == "first"
    assert "first_frame_of_3" in info["transforms"]


def test_16_bit_rgb_dicom_is_scaled_not_wrapped(tmp_path):
    values = np.full((4, 4, 3), 0x8000, dtype="<u2")
    values[0, 0] = (0xFFFF, 0, 0x8000)
    sample = load(tmp_path, "rgb16.dcm", dicom(4, 4, values.tobytes(), rgb16=True))
    pixels = decoded(sample)
    assert pixels[1, 1].tolist() == [128, 128, 128]  # 0x8000 of 0xFFFF, not 0x8000 % 256 == 0
    assert pixels[0, 0].tolist() == [255, 0, 128]


def test_dicom_size_is_checked_before_decoding(tmp_path):
    bomb = dicom(12_000, 12_000, bytes(16))  # declares 144 M pixels, carries 16 bytes
    error = rejected(tmp_path, "bomb.dcm", bomb)
    assert error.reason == "decompression_bomb" and "12000x12000" in error.detail
    frames = dicom(100, 100, bytes(100 * 100 * 2 * 20), frames=20)
    error = rejected(tmp_path, "frames.dcm", frames, max_pixels=150_000)
    assert "x20 frames" in error.detail
    sample = load(tmp_path, "frames.dcm", frames)
    assert sample.image_info["frame_policy"] == "first"
    assert sample.image_info["dicom"]["frames"] == 20
