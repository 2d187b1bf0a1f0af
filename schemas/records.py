"""The record types that cross a stage boundary: input row, loaded sample, label record, reject.

One definition each; every stage imports them from here. They are plain dataclasses so that
Beam can pickle them to out-of-process workers and tests can build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Label values as in CheXpert; a label not mentioned is left out (null where a schema is fixed).
POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1


class Stage:
    """Where a reject happened; a small fixed set so that reject tallies stay meaningful."""

    MANIFEST = "manifest"
    IMAGE = "image"
    REPORT = "report"
    LABEL = "label"
    WRITE = "write"


class Reason:
    """Why an input was rejected. Named strings, counted per reason in run.json."""

    EMPTY_ID = "empty_id"
    DUPLICATE_ID = "duplicate_id"
    KEY_COLLISION = "key_collision"
    MISSING_IMAGE_PATH = "missing_image_path"
    FILE_NOT_FOUND = "file_not_found"
    UNREADABLE_FILE = "unreadable_file"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    FILE_TOO_LARGE = "file_too_large"
    PATH_OUTSIDE_ROOT = "path_outside_root"
    FETCH_FAILED = "fetch_failed"
    EMPTY_FILE = "empty_file"
    NOT_AN_IMAGE = "not_an_image"
    TRUNCATED_IMAGE = "truncated_image"
    DECOMPRESSION_BOMB = "decompression_bomb"
    IMAGE_TOO_LARGE = "image_too_large"
    DICOM_NO_PIXEL_DATA = "dicom_no_pixel_data"
    DICOM_UNSUPPORTED = "dicom_unsupported"
    REPORT_NOT_FOUND = "report_not_found"
    REPORT_UNDECODABLE = "report_undecodable"
    REPORT_AMBIGUOUS = "report_ambiguous"
    LABELER_ERROR = "labeler_error"
    BAD_ROW = "bad_row"
    UNEXPECTED_ERROR = "unexpected_error"


@dataclass(frozen=True)
class InputRow:
    """One manifest row after column validation.

    `row` is its 1-based data row number. `image` and `report_path` are as the manifest gives
    them (and as samples record them, so moving a dataset does not change its shards); `base`
    is the folder that relative ones resolve against.
    """

    row: int
    id: str
    image: str
    report: str | None = None
    report_path: str | None = None
    labels: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    base: str = ""

    def resolve(self, path: str) -> str:
        """`path` from this row, resolved against the manifest's folder unless absolute or a URL."""
        if not self.base or "://" in path or path.startswith("/"):
            return path
        return f"{self.base.rstrip('/')}/{path}"


@dataclass
class LabelRecord:
    """What every labeler returns per sample (see ARCHITECTURE.md).

    `labels` maps label name to 1, 0 or -1; a label not mentioned is left out. `arrays` travel
    beside the JSON as `.npy` members of the shard (dense label maps), never inside it.
    """

    source: str
    labels: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON-serialisable part (everything but `arrays`)."""
        return {
            "source": self.source,
            "labels": dict(self.labels),
            "scores": {k: float(v) for k, v in self.scores.items()},
            "evidence": list(self.evidence),
            "meta": dict(self.meta),
        }


@dataclass
class Sample:
    """A loaded, checked sample on its way to the labelers and the shard writer.

    `image` holds the bytes that will be written (already re-encoded if needed), `image_ext`
    their member extension, `image_info` the original and written size and format, and
    `pixels` the decoded RGB array for labelers that need it (dropped before writing).
    """

    row: InputRow
    key: str
    image: bytes
    image_ext: str
    image_info: dict[str, Any]
    report: str | None
    report_info: dict[str, Any] = field(default_factory=dict)
    pixels: np.ndarray | None = None
    records: list[LabelRecord] = field(default_factory=list)
    final: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reject:
    """An input that was not written, with where and why; one row of rejects.parquet."""

    row: int
    id: str | None
    stage: str
    reason: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "id": self.id,
            "stage": self.stage,
            "reason": self.reason,
            "detail": self.detail,
        }


class RejectError(Exception):
    """Raised by stage code to reject the current sample with a named reason."""

    def __init__(self, stage: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{stage}/{reason}: {detail}")
        self.stage = stage
        self.reason = reason
        self.detail = detail
