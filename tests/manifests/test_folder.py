"""Folder mode listed in parts: the parts, in order, give the rows one sorted listing of the
whole folder gives, whatever order the file system lists entries in."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
import pytest

from labelmill.manifests import folder
from labelmill.manifests.parts import FOLDER_PART, list_inputs, read_unit, split_unit
from labelmill.manifests.read import ManifestError, read_inputs


def touch(root: Path, *paths: str) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"x")


def walked(root: Path, tree: str) -> list[str]:
    """Every file under `tree` by path, relative to `root`: the order rows must follow."""
    found = [
        os.path.relpath(os.path.join(d, name), root)
        for d, _, names in os.walk(root / tree)
        for name in names
    ]
    return sorted(found)


# names whose path order differs from their order as entries: `a.png` < `a/` < `a0.png`
TRICKY = ("images/a.png", "images/a/z.png", "images/a/b/c.png", "images/a-b.png", "images/a0.png")


def test_parts_in_order_give_the_sorted_listing(tmp_path, monkeypatch):
    touch(tmp_path, *TRICKY, "images/b/notes.md", "images/c.dcm", "images/d/e.jpg")
    (tmp_path / "images" / "empty" / "deeper").mkdir(parents=True)
    monkeypatch.setattr(folder, "PART_FILES", 2)
    parts = folder.top_parts(str(tmp_path), folder.IMAGES)
    assert [p for _, p in parts] == [
        ("images/a-b.png", "images/a.png"),
        "images/a",
        ("images/a0.png",),
        "images/b",
        ("images/c.dcm",),
        "images/d",
        "images/empty",
    ]
    listed = [f for _, p in parts for f in folder.part_files(str(tmp_path), p)]
    assert listed == walked(tmp_path, "images")
    images = [p for p in listed if not p.endswith(".md")]
    assert [r.image for r in folder.read_folder(str(tmp_path))] == images


def test_listing_order_of_the_file_system_changes_nothing(tmp_path, monkeypatch):
    touch(tmp_path, *TRICKY, *(f"images/flat-{i}.png" for i in range(7)))
    expected = folder.top_parts(str(tmp_path), folder.IMAGES)
    ls = fsspec.implementations.local.LocalFileSystem.ls
    monkeypatch.setattr(
        fsspec.implementations.local.LocalFileSystem,
        "ls",
        lambda self, path, detail=False, **kw: ls(self, path, detail, **kw)[::-1],
    )
    assert folder.top_parts(str(tmp_path), folder.IMAGES) == expected


def test_a_run_of_top_level_files_is_cut_into_parts(tmp_path, monkeypatch):
    touch(tmp_path, *(f"images/{i:02d}.png" for i in range(7)))
    monkeypatch.setattr(folder, "PART_FILES", 3)
    parts = folder.top_parts(str(tmp_path), folder.IMAGES)
    assert [len(p) for _, p in parts] == [3, 3, 1]
    assert [n for n, _ in parts] == [0, 1, 2]


def test_reports_match_by_stem_anywhere_and_the_last_by_path_wins(tmp_path):
    touch(tmp_path, "images/x/a.png", "images/b.png", "images/c.png")
    touch(tmp_path, "reports/a.txt", "reports/z/a.txt", "reports/b.md", "reports/y/c.txt")
    rows, rejects = read_inputs(str(tmp_path))
    assert not rejects
    assert [(r.row, r.id, r.report_path) for r in rows] == [
        (1, "b", None),
        (2, "c", "reports/y/c.txt"),
        (3, "a", "reports/z/a.txt"),
    ]
    assert {r.base for r in rows} == {str(tmp_path)}


def test_workers_read_a_folder_part_by_part(tmp_path):
    touch(tmp_path, "images/s/1.png", "images/s/2.png", "images/t.png", "images/u/v.txt")
    (unit,) = list_inputs(str(tmp_path) + "/")
    units = split_unit(unit)
    assert [(u.key, u.kind) for u in units] == [
        ((0, 0), FOLDER_PART),
        ((0, 1), FOLDER_PART),
        ((0, 2), FOLDER_PART),
    ]
    rows = [[(r.row, r.image) for r in read_unit(u)] for u in units]
    assert rows == [[(1, "images/s/1.png"), (2, "images/s/2.png")], [(1, "images/t.png")], []]
    assert {u.url for u in units} == {str(tmp_path)}


def test_a_folder_without_images_is_refused(tmp_path):
    touch(tmp_path, "reports/a.txt")
    with pytest.raises(ManifestError, match="images/ subfolder"):
        read_inputs(str(tmp_path))
