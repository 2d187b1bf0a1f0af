"""Bad input, generated here: every kind ends written (handled) or rejected with its own reason,
and the build still balances: written + rejected == read."""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

from labelmill.manifests.built import read_manifest, read_rejects
from labelmill.manifests.keys import make_key
from labelmill.pipelines.build import run
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.sample import decode_sample_json

DICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def jpeg(mode: str = "RGB", size=(64, 48), **save) -> bytes:
    out = io.BytesIO()
    color = (200, 30, 30, 0) if mode == "CMYK" else (200, 30, 30)
    Image.new(mode, size, color[: len(mode)] if mode != "CMYK" else color).save(out, "JPEG", **save)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares a huge image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def rotated_jpeg() -> bytes:
    image = Image.new("RGB", (80, 40), (10, 200, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def dicom_without_pixels() -> bytes:
    ds = pydicom.dcmread(DICOM_FILES / "CT_small.dcm")
    del ds.PixelData
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


# id -> (file name, bytes or None for no file, expected outcome: "written" or a reject reason)
def cases(root: Path) -> list[dict]:
    good = png(Image.new("L", (32, 32), 128))
    rgb16 = Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16))
    palette = Image.new("RGB", (32, 32), (0, 0, 255)).convert("P", palette=Image.Palette.ADAPTIVE)
    valid_jpeg = jpeg()
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    noisy = png(Image.fromarray(noise))
    table = [
        ("zero-jpeg", "zero.jpg", b"", "empty_file"),
        ("zero-png", "zero.png", b"", "empty_file"),
        ("trunc-jpeg", "trunc.jpg", valid_jpeg[: len(valid_jpeg) // 2], "truncated_image"),
        ("trunc-png", "trunc.png", good[: len(good) // 2], "truncated_image"),
        ("corrupt-jpeg", "corrupt.jpg", valid_jpeg[:20] + b"\x00" * 300, "not_an_image"),
        ("corrupt-png", "corrupt.png", noisy[:100] + b"\xff" * 200 + noisy[300:], "not_an_image"),
        ("bomb", "bomb.png", bomb_png(), "decompression_bomb"),
        ("text-as-jpeg", "notes.jpg", b"just some text, not an image", "not_an_image"),
        ("wrong-ext", "actually_jpeg.png", valid_jpeg, "written"),
        ("cmyk", "cmyk.jpg", jpeg("CMYK"), "written"),
        ("16bit", "deep.png", png(rgb16), "written"),
        ("palette", "palette.png", png(palette), "written"),
        ("alpha", "alpha.png", png(Image.new("RGBA", (16, 16), (1, 2, 3, 100))), "written"),
        ("exif-rotated", "rotated.jpg", rotated_jpeg(), "written"),
        ("dicom-nopixels", "nopix.dcm", dicom_without_pixels(), "dicom_no_pixel_data"),
        (
            "dicom-jpegls",
            "jpegls.dcm",
            (DICOM_FILES / "JPEGLSNearLossless_08.dcm").read_bytes(),
            "dicom_unsupported",
        ),
        ("dicom-rle", "rle.dcm", (DICOM_FILES / "MR_small_RLE.dcm").read_bytes(), "written"),
        ("missing-file", "not_there.png", None, "file_not_found"),
        ("a.b.c", "dots.png", good, "written"),
        ("a/b/c", "slash.png", good, "written"),
        ("../../etc/passwd", "dotdot.png", good, "written"),
        ("with space", "space.png", good, "written"),
        ("患者-1", "unicode.png", good, "written"),
        ("", "emptyid.png", good, "empty_id"),
        ("dup", "dup1.png", good, "written"),
        ("dup", "dup2.png", good, "duplicate_id"),
        (make_key("a.b.c"), "collide.png", good, "key_collision"),
    ]
    rows = []
    for sid, name, data, expected in table:
        if data is not None:
            (root / name).write_bytes(data)
        rows.append({"id": sid, "image": name, "expected": expected})
    (root / "a_folder.png").mkdir()
    rows.append({"id": "dir-as-image", "image": "a_folder.png", "expected": "unreadable_file"})
    rows.append({"id": "no-image-path", "image": "", "expected": "missing_image_path"})
    (root / "latin.txt").write_bytes("caf\u00e9 effusion".encode("latin-1"))
    (root / "empty.txt").write_bytes(b"")
    (root / "big.txt").write_text("No pneumothorax. " * 62_000)
    (root / "ok.png").write_bytes(good)
    for sid, report_path, expected in [
        ("report-latin1", "latin.txt", "report_undecodable"),
        ("report-empty", "empty.txt", "written"),
        ("report-1mb", "big.txt", "written"),
        ("report-missing", "gone.txt", "report_not_found"),
    ]:
        rows.append(
            {"id": sid, "image": "ok.png", "report_path": report_path, "expected": expected}
        )
    return rows


def test_every_bad_input_is_handled_or_rejected_with_its_reason(tmp_path):
    rows = cases(tmp_path)
    with open(tmp_path / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "image", "report_path", "expected"])
        writer.writeheader()
        writer.writerows(rows)
    with open(tmp_path / "manifest.csv", "a") as fh:
        fh.write("ragged,row,with,too,many,fields\n")
    out = tmp_path / "out"
    summary = run(
        BuildConfig(input=str(tmp_path / "manifest.csv"), output=str(out)), show_progress=False
    )

    counts = summary["counts"]
    assert counts["read"] == len(rows) + 1
    assert counts["written"] + counts["rejected"] == counts["read"] and counts["balanced"]
    rejects = read_rejects(str(out))
    by_row = {r["row"]: r for r in rejects}
    written = {r["row"] for r in read_manifest(str(out))}
    for number, row in enumerate(rows, start=1):
        if row["expected"] == "written":
            assert number in written, (row["id"], by_row.get(number))
        else:
            assert by_row[number]["reason"] == row["expected"], (row["id"], by_row.get(number))
            assert by_row[number]["detail"]
    assert by_row[len(rows) + 1]["reason"] == "bad_row"
    assert len({r["reason"] for r in rejects}) >= 13
    assert len(rows) + 1 >= 30


def test_handled_images_record_what_was_done(tmp_path):
    rows = [r for r in cases(tmp_path) if r["id"] in {"exif-rotated", "cmyk", "16bit", "wrong-ext"}]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps({**r, "score": float("nan")}) for r in rows))
    out = tmp_path / "out"
    run(BuildConfig(input=str(manifest), output=str(out)), show_progress=False)
    import webdataset as wds

    shard = str(out / "shards" / "shard-000000.tar")
    samples = {}
    for sample in wds.WebDataset(shard, shardshuffle=False):
        info = decode_sample_json(sample["json"])
        samples[info["id"]] = (info, Image.open(io.BytesIO(sample["png"])))
    info, image = samples["exif-rotated"]
    assert image.size == (40, 80)  # stored 80x40, shown rotated
    assert any(t.startswith("exif_orientation") for t in info["image"]["transforms"])
    info, image = samples["cmyk"]
    assert info["image"]["original_mode"] == "CMYK" and image.mode == "RGB"
    assert info["meta"]["score"] is None  # NaN metadata becomes null
    info, image = samples["16bit"]
    assert info["image"]["original_mode"].startswith("I") and image.mode == "L"
    info, image = samples["wrong-ext"]
    assert info["image"]["original_format"] == "jpeg" and image.format == "PNG"
