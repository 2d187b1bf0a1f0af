"""Folder mode: `images/` and optional `reports/`, matched by file stem, listed in parallel.

The rows are what one sorted listing of the whole folder gives: the images in the order of their
paths relative to the folder, numbered from 1, each with the `.txt` report of the same stem
anywhere under `reports/` (the last by path when several share a stem). That listing is cut so
no process lists every file: one worker lists the top level of a tree, each top-level subfolder
becomes a part that another worker lists, and each run of top-level files a part of at most
`PART_FILES` names. Parts are numbered in the order whole paths sort (a folder `a` sorts as
`a/`: every path under it is contiguous there), so a row's position (part, index in the part's
sorted files) gives the whole listing's row numbers on any runner and worker count.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import fsspec

from labelmill.schemas.records import InputRow

IMAGES, REPORTS = "images", "reports"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".dcm", ".dicom", ".bmp", ".tif", ".tiff", ".webp")
PART_FILES = 10_000  # top-level files per part: a flat folder of 1e6 images is 100 parts


def folder_root(path: str) -> str:
    """The folder as rows name it (`base`): local paths absolute, URLs without a trailing /."""
    path = path.rstrip("/")
    return path if "://" in path else os.path.abspath(path)


def _fs(root: str) -> tuple[Any, str]:
    fs, root_fs = fsspec.core.url_to_fs(root)
    return fs, root_fs.rstrip("/")


def has_tree(root: str, tree: str) -> bool:
    fs, root_fs = _fs(root)
    return bool(fs.isdir(f"{root_fs}/{tree}"))


def top_parts(root: str, tree: str) -> list[tuple[int, str | tuple[str, ...]]]:
    """The parts of `tree` (`images` or `reports`) in path order, from one listing of its top
    level: (part number, a subfolder to list) or (part number, a run of file paths), all
    relative to `root`. A missing tree has none."""
    fs, root_fs = _fs(root)
    if not fs.isdir(f"{root_fs}/{tree}"):
        return []
    entries = sorted(
        (
            (entry["name"].rstrip("/")[len(root_fs) + 1 :], entry["type"] == "directory")
            for entry in fs.ls(f"{root_fs}/{tree}", detail=True)
        ),
        key=lambda e: e[0] + "/" if e[1] else e[0],  # as the paths under a folder sort
    )
    found: list[str | tuple[str, ...]] = []
    run: list[str] = []
    for name, is_dir in entries:
        if is_dir or len(run) == PART_FILES:
            if run:
                found.append(tuple(run))
            run = []
        if is_dir:
            found.append(name)
        else:
            run.append(name)
    if run:
        found.append(tuple(run))
    return list(enumerate(found))


def part_files(root: str, part: str | tuple[str, ...]) -> list[str]:
    """A part's file paths (relative to `root`) in sorted order: a subfolder listed in full."""
    if isinstance(part, tuple):
        return list(part)
    fs, root_fs = _fs(root)
    return sorted(p[len(root_fs) + 1 :] for p in fs.find(f"{root_fs}/{part}"))


def stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def image_rows(root: str, part: str | tuple[str, ...]) -> Iterator[InputRow]:
    """A part's images as rows numbered from 1 within the part, without their reports."""
    images = (p for p in part_files(root, part) if p.lower().endswith(IMAGE_EXTENSIONS))
    for number, path in enumerate(images, start=1):
        yield InputRow(row=number, id=stem(path), image=path, base=root)


def report_paths(root: str, part: str | tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(stem, path) of a part's reports."""
    for path in part_files(root, part):
        if path.endswith(".txt"):
            yield stem(path), path


def last_report(paths: Iterable[str]) -> str:
    """The report a stem gets when several share it: the last by path, as a listing in path
    order would leave it."""
    return max(paths)


def with_report(
    grouped: tuple[str, dict[str, list[Any]]],
) -> Iterator[tuple[Any, InputRow]]:
    """The rows of one stem (keyed by their part), each given that stem's report, if any."""
    _, found = grouped
    report = next(iter(found[REPORTS]), None)
    for key, row in found[IMAGES]:
        yield key, replace(row, report_path=report) if report else row


def read_folder(path: str) -> list[InputRow]:
    """The whole folder's rows in one process (small inputs and tests): the parts in order,
    numbered through, as the pipeline numbers them."""
    root = folder_root(path)
    reports: dict[str, list[str]] = {}
    for _, part in top_parts(root, REPORTS):
        for name, report in report_paths(root, part):
            reports.setdefault(name, []).append(report)
    rows: list[InputRow] = []
    for _, part in top_parts(root, IMAGES):
        for row in image_rows(root, part):
            found = reports.get(row.id)
            rows.append(
                replace(row, row=len(rows) + 1, report_path=last_report(found) if found else None)
            )
    return rows
