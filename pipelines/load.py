"""Load stage: read one row's image and report, check them, and make the bytes to write.

Every failure raises `RejectError` with a named reason, so the shard stage records it and goes
on. Images are decoded (a file that only has a valid header is caught here, not by the trainer;
JPEGs whose bytes are kept as they are only at 1/8 scale, which catches the same files), EXIF
orientation is applied, DICOM is windowed to 8-bit PNG, and the written format is the build's
single image extension so that every sample carries the same members.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from labelmill.fetch import DEFAULT_FETCH, FetchOptions
from labelmill.pipelines import image_checks
from labelmill.pipelines.input_files import DEFAULT_MAX_FILE_BYTES, FileLimits, read_input
from labelmill.schemas.records import InputRow, Reason, RejectError, Sample, Stage

_PIL_FORMAT = {"jpg": "JPEG", "png": "PNG"}


@dataclass(frozen=True)
class LoadOptions:
    """How images are checked and written; part of the build config."""

    image_ext: str = "png"
    max_image_side: int | None = None
    max_pixels: int = 100_000_000
    jpeg_quality: int = 95
    keep_pixels: bool = False
    allow_roots: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    fetch: FetchOptions = DEFAULT_FETCH

    @property
    def files(self) -> FileLimits:
        return FileLimits(self.allow_roots, self.max_file_bytes, self.fetch)


def load_sample(row: InputRow, key: str, options: LoadOptions) -> Sample:
    """Load and check one row; raises RejectError naming the reason when it cannot be written."""
    if not row.image:
        raise RejectError(Stage.IMAGE, Reason.MISSING_IMAGE_PATH, "the image column is empty")
    data = read_input(row, row.image, Stage.IMAGE, Reason.FILE_NOT_FOUND, options.files)
    if not data:
        raise RejectError(Stage.IMAGE, Reason.EMPTY_FILE, f"{row.image}: zero bytes")
    if image_checks.is_dicom(data, row.image):
        image, info = _decode_dicom(data, row.image, options.max_pixels)
        keep_original = False
    else:
        image, info, keep_original = _decode_pil(data, row.image, options)
    try:
        image, transforms = _resize(image, options.max_image_side)
        keep_original = keep_original and not transforms
        if not keep_original:
            image_checks.check_encodable(image.width, image.height, options.image_ext, row.image)
        encoded = data if keep_original else _encode(image, options)
    except MemoryError as exc:
        raise image_checks.out_of_memory(row.image, image.width, image.height) from exc
    # Kept bytes have the original size (a kept JPEG was only checked, at a reduced scale).
    width, height = image.size
    if keep_original:
        width, height = info["original_width"], info["original_height"]
    info.update(
        format=options.image_ext,
        width=width,
        height=height,
        bytes=len(encoded),
        sha256=hashlib.sha256(encoded).hexdigest(),
        source=row.image,
        transforms=info.get("transforms", []) + transforms,
    )
    report, report_info = load_report(row, options)
    pixels = np.asarray(image.convert("RGB")) if options.keep_pixels else None
    info.setdefault("original_mode", "")
    return Sample(
        row=row,
        key=key,
        image=encoded,
        image_ext=options.image_ext,
        image_info=info,
        report=report,
        report_info=report_info,
        pixels=pixels,
    )


def _decode_pil(data: bytes, url: str, options: LoadOptions) -> tuple[Image.Image, dict, bool]:
    """Decode fully with Pillow; returns the image, its info, and whether the bytes can be kept."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RejectError(Stage.IMAGE, Reason.DECOMPRESSION_BOMB, f"{url}: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise RejectError(Stage.IMAGE, Reason.NOT_AN_IMAGE, f"{url}: not a known image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _decode_error(url, exc) from exc
    width, height = image.size
    image_checks.check_pixels(width, height, 1, url, options.max_pixels)
    info: dict[str, Any] = {
        "original_format": (image.format or "").lower(),
        "original_width": width,
        "original_height": height,
        "original_mode": image.mode,
    }
    if _kept_without_pixels(image, options):
        _check_jpeg_decodes(image, url)
        info["transforms"] = []
        return image, info, True
    if options.max_image_side and image.format == "JPEG":
        image.draft("RGB", (options.max_image_side, options.max_image_side))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _decode_error(url, exc) from exc
    except MemoryError as exc:
        raise image_checks.out_of_memory(url, width, height) from exc
    transforms: list[str] = []
    image_checks.frame_info(getattr(image, "n_frames", 1), info, transforms)
    if image.size != (width, height):
        transforms.append("draft")
    orientation = image_checks.exif_orientation(image.getexif().get(0x0112, 1), info)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
        transforms.append(f"exif_orientation_{orientation}")
    image = _to_8bit(image, options.image_ext, transforms)
    info["transforms"] = transforms
    same_format = info["original_format"] == _PIL_FORMAT[options.image_ext].lower()
    return image, info, same_format and not transforms


def _kept_without_pixels(image: Image.Image, options: LoadOptions) -> bool:
    """Whether a JPEG's bytes are written as they are and no labeler needs its pixels: exactly
    the cases in which the full decode would change nothing (JPEG kept as JPEG, no resize,
    no EXIF rotation, L or RGB) and only serve as a validity check."""
    return (
        image.format == "JPEG"
        and options.image_ext == "jpg"
        and not options.keep_pixels
        and image.mode in ("L", "RGB")
        and not (options.max_image_side and max(image.size) > options.max_image_side)
        and image.getexif().get(0x0112, 1) == 1
    )


def _check_jpeg_decodes(image: Image.Image, url: str) -> None:
    """The validity check of a full decode at a fraction of its cost: libjpeg decodes the
    gray plane at 1/8 scale, which still reads every marker and all entropy-coded data (so a
    truncated or corrupt file fails the same way) but skips most of the inverse DCT and the
    color conversion. The image is left at that scale: only its bytes are written."""
    image.draft("L", (1, 1))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _decode_error(url, exc) from exc


def _decode_error(url: str, exc: Exception) -> RejectError:
    """Pillow reports a short file and a corrupt one with the same exception types."""
    reason = Reason.TRUNCATED_IMAGE if "truncat" in str(exc).lower() else Reason.NOT_AN_IMAGE
    return RejectError(Stage.IMAGE, reason, f"{url}: {exc}")


def _to_8bit(image: Image.Image, ext: str, transforms: list[str]) -> Image.Image:
    """Bring any mode to L, RGB or (PNG only) RGBA, recording the conversion."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) / (high - low or 1.0) * 255.0
        image = Image.fromarray(np.round(scaled).astype(np.uint8), mode="L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "PA") or (mode == "RGBA" and ext == "jpg"):
        image = image.convert("RGBA" if ext == "png" else "RGB")
    elif mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")
    if image.mode == "RGBA" and ext == "jpg":
        image = image.convert("RGB")
    if image.mode != mode:
        transforms.append(f"mode_{mode}_to_{image.mode}")
    return image


def _decode_dicom(data: bytes, url: str, max_pixels: int) -> tuple[Image.Image, dict]:
    """Window a DICOM image to 8 bits with its own VOI LUT (or min-max when it has none)."""
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:  # pydicom raises many types for corrupt files
        detail = f"{url}: unreadable DICOM: {exc}"
        raise RejectError(Stage.IMAGE, Reason.NOT_AN_IMAGE, detail) from exc
    if "PixelData" not in ds:
        raise RejectError(Stage.IMAGE, Reason.DICOM_NO_PIXEL_DATA, f"{url}: no PixelData element")
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    frames = _int(ds.get("NumberOfFrames"), 1)
    image_checks.check_pixels(_int(ds.get("Columns"), 0), _int(ds.get("Rows"), 0), frames, url,
                              max_pixels)
    try:
        array = ds.pixel_array
    except Exception as exc:  # missing decoder plugins raise RuntimeError/NotImplementedError
        raise RejectError(
            Stage.IMAGE, Reason.DICOM_UNSUPPORTED, f"{url}: cannot decode ({syntax}): {exc}"
        ) from exc
    if frames > 1:
        array = array[0]
    color = int(getattr(ds, "SamplesPerPixel", 1)) == 3
    if color:
        image = Image.fromarray(_color_to_8bit(array, ds), mode="RGB")
        window = None
    else:
        values = apply_voi_lut(apply_modality_lut(array, ds), ds).astype(np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low or 1.0) * 255.0
        if str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1":
            scaled = 255.0 - scaled
        image = Image.fromarray(np.round(scaled).astype(np.uint8), mode="L")
        window = {"center": _first(ds.get("WindowCenter")), "width": _first(ds.get("WindowWidth"))}
    info = {
        "original_format": "dicom",
        "original_width": int(ds.Columns),
        "original_height": int(ds.Rows),
        "original_mode": str(getattr(ds, "PhotometricInterpretation", "")),
        "dicom": {
            "transfer_syntax": syntax,
            "modality": str(ds.get("Modality", "")),
            "frames": frames,
            "window": window,
        },
        "transforms": ["dicom_to_8bit"],
    }
    image_checks.frame_info(frames, info, info["transforms"])
    return image, info


def _int(value: Any, default: int) -> int:
    """A DICOM integer attribute, or `default` when it is absent or not a number."""
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _color_to_8bit(array: np.ndarray, ds: Any) -> np.ndarray:
    """RGB samples scaled from their stored bit depth to 8 bits (a cast would wrap 16-bit values
    modulo 256: 0x8000 would become 0)."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    bits = _int(ds.get("BitsStored"), array.dtype.itemsize * 8)
    scaled = np.clip(array.astype(np.float64), 0, None) * (255.0 / ((1 << bits) - 1))
    return np.ascontiguousarray(np.clip(np.round(scaled), 0, 255).astype(np.uint8))


def _first(value: Any) -> float | None:
    """The first value of a DICOM window attribute (it may hold one value or several)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = value[0] if len(value) else None
    return None if value is None else float(value)


def _resize(image: Image.Image, max_side: int | None) -> tuple[Image.Image, list[str]]:
    if not max_side or max(image.size) <= max_side:
        return image, []
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS), [f"resize_{size[0]}x{size[1]}"]


def _encode(image: Image.Image, options: LoadOptions) -> bytes:
    out = io.BytesIO()
    if options.image_ext == "jpg":
        image.convert("RGB" if image.mode != "L" else "L").save(
            out, format="JPEG", quality=options.jpeg_quality
        )
    else:
        image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def load_report(
    row: InputRow, options: LoadOptions | None = None
) -> tuple[str | None, dict[str, Any]]:
    """The report text (None when the row has none) and where it came from."""
    image_checks.check_report_source(row)
    if row.report is not None:
        return row.report, {"present": True, "source": "inline", "chars": len(row.report)}
    if not row.report_path:
        return None, {"present": False}
    limits = (options or LoadOptions()).files
    data = read_input(row, row.report_path, Stage.REPORT, Reason.REPORT_NOT_FOUND, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectError(
            Stage.REPORT,
            Reason.REPORT_UNDECODABLE,
            f"{row.report_path}: not UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start})",
        ) from exc
    return text, {"present": True, "source": row.report_path, "chars": len(text)}
