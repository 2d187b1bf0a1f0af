"""Checks on an image before and after it is opened, kept apart from the decoding itself.

Which decoder a file goes to is decided by its magic bytes, not by a "DICM" that any PNG can
carry at offset 128; a DICOM's declared size is checked against `max_pixels` before its pixel
data is decoded; a file with several frames (animated GIF/WebP, multi-page TIFF, multi-frame
DICOM) says that only its first frame is kept; an EXIF orientation outside 1..8 is ignored and
says so; and a report given both inline and as a path is refused rather than silently picking one.
"""

from __future__ import annotations

from typing import Any

from labelmill.schemas.records import InputRow, Reason, RejectError, Stage

# Magic bytes of raster formats that cannot also be DICOM. TIFF is not among them: a DICOM
# preamble may hold a TIFF header on purpose (dual-format files), so "II*" + DICM is DICOM.
_PIL_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
DICOM_EXTENSIONS = (".dcm", ".dicom")
JPEG_MAX_SIDE = 65_500
FRAME_POLICY = "first"  # a file with several frames keeps its first one (recorded per sample)


def is_dicom(data: bytes, name: str) -> bool:
    """DICOM when the bytes are not a known raster format and carry the DICOM preamble (or the
    file is named .dcm: DICOM without a preamble exists)."""
    if data.startswith(_PIL_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return False
    return data[128:132] == b"DICM" or name.lower().endswith(DICOM_EXTENSIONS)


def check_pixels(width: int, height: int, frames: int, url: str, max_pixels: int) -> None:
    """Reject a declared size over `max_pixels` (all frames counted) before any decoding."""
    if width * height * max(frames, 1) > max_pixels:
        shown = f"{width}x{height}" + (f"x{frames} frames" if frames > 1 else "")
        raise RejectError(
            Stage.IMAGE,
            Reason.DECOMPRESSION_BOMB,
            f"{url}: declares {shown} pixels, over max_pixels={max_pixels}",
        )


def frame_info(frames: int, info: dict[str, Any], transforms: list[str]) -> None:
    """Record, for a file with several frames, how many it had and that only the first is kept."""
    if frames > 1:
        info["frames"] = frames
        info["frame_policy"] = FRAME_POLICY
        transforms.append(f"first_frame_of_{frames}")


def exif_orientation(value: Any, info: dict[str, Any]) -> int:
    """The EXIF orientation to apply (1 = none). Values outside 1..8 are not orientations:
    they are ignored, and `exif_orientation_ignored` says which value was found."""
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    info["exif_orientation_ignored"] = repr(value)[:40]
    return 1


def out_of_memory(url: str, width: int, height: int) -> RejectError:
    """A decode that ran out of memory names the image and its size (MemoryError says nothing)."""
    return RejectError(
        Stage.IMAGE,
        Reason.DECOMPRESSION_BOMB,
        f"{url}: {width}x{height} pixels: out of memory while decoding or resizing",
    )


def check_encodable(width: int, height: int, ext: str, url: str) -> None:
    """JPEG cannot hold a side over 65,500 pixels; say so instead of libjpeg's broken stream."""
    if ext == "jpg" and max(width, height) > JPEG_MAX_SIDE:
        raise RejectError(
            Stage.IMAGE,
            Reason.IMAGE_TOO_LARGE,
            f"{url}: {width}x{height} pixels: JPEG holds at most {JPEG_MAX_SIDE} per side",
        )


def check_report_source(row: InputRow) -> None:
    """A row with both an inline report and a report_path is ambiguous: which one is the report?"""
    if row.report is not None and row.report_path:
        raise RejectError(
            Stage.REPORT,
            Reason.REPORT_AMBIGUOUS,
            f"both an inline report and report_path {row.report_path!r} are given; keep one",
        )
