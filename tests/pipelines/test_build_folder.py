"""A folder of images and reports, listed in parts by workers, builds the same shards,
manifest and rejects as a manifest that lists the same files in path order, on the default
runner and with several workers."""

from __future__ import annotations

import csv
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from labelmill.manifests import folder
from labelmill.manifests.built import read_manifest, read_rejects
from labelmill.pipelines.build import run
from labelmill.schemas.config import BuildConfig

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
# where each sample study goes: nested folders, top-level files around a folder of the same
# prefix (`a.png` < `a/` < `a0.png` as paths), a repeated stem (a duplicate id), an empty folder
LAYOUT = {
    0: "images/a.png",
    1: "images/a/p1/study-001.png",
    2: "images/a/p1/study-002.png",
    3: "images/a/p2/study-003.png",
    4: "images/a0.png",
    5: "images/b/study-005.png",
    6: "images/b/deep/er/study-001.png",
    7: "images/c.png",
    8: "images/d.png",
    9: "images/e.png",
}
REPORTS = ("study-001", "study-003", "study-005")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder")
    for study, path in LAYOUT.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / "images" / f"study-{study:03d}.png", root / path)
    (root / "images" / "empty" / "sub").mkdir(parents=True)
    (root / "images" / "b" / "notes.md").write_text("not an image")
    for n, name in enumerate(REPORTS):
        where = root / "reports" / ("" if n else "old") / f"{name}.txt"
        where.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / "reports" / f"{name}.txt", where)
    (root / "reports" / "z" / "study-001.txt").parent.mkdir()
    (root / "reports" / "z" / "study-001.txt").write_text("FINDINGS: No pneumothorax.")
    return root


def listed_manifest(root: Path) -> Path:
    """The folder's rows as a manifest, from one walk of the whole folder (an independent
    listing: images by path, reports by stem, the last by path)."""

    def files(tree: str) -> list[str]:
        found = (os.path.join(d, n) for d, _, names in os.walk(root / tree) for n in names)
        return sorted(os.path.relpath(p, root) for p in found)

    reports = {folder.stem(p): p for p in files("reports") if p.endswith(".txt")}
    path = root / "manifest.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "image", "report_path"])
        for image in files("images"):
            if image.endswith(".png"):
                writer.writerow([folder.stem(image), image, reports.get(folder.stem(image), "")])
    return path


def build(source: Path, out: Path, args: list[str]) -> dict:
    config = BuildConfig(input=str(source), output=str(out), shard_max_samples=3)
    return run(config, args, show_progress=False)


def shards(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


@pytest.mark.parametrize(
    "args", [[], ["--direct_num_workers", "2", "--direct_running_mode", "multi_threading"]]
)
def test_folder_build_equals_the_manifest_build(source, tmp_path, monkeypatch, args):
    monkeypatch.setattr(folder, "PART_FILES", 2)  # c, d, e: two parts of top-level files
    expected = build(listed_manifest(source), tmp_path / "manifest", [])
    summary = build(source, tmp_path / "folder", args)
    assert summary["counts"] == expected["counts"]
    assert summary["counts"]["read"] == len(LAYOUT)
    assert shards(tmp_path / "folder") == shards(tmp_path / "manifest")
    assert read_manifest(str(tmp_path / "folder")) == read_manifest(str(tmp_path / "manifest"))
    assert read_rejects(str(tmp_path / "folder")) == read_rejects(str(tmp_path / "manifest"))
    rejects = read_rejects(str(tmp_path / "folder"))
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (6, "duplicate_id")
    ]  # b/deep/er/study-001.png
    samples = {r["id"]: r for r in read_manifest(str(tmp_path / "folder"))}
    assert {k for k, r in samples.items() if r["report_present"]} == set(REPORTS)
    with tarfile.open(tmp_path / "folder" / samples["study-001"]["shard"]) as tar:
        report = tar.extractfile("study-001.txt").read()  # reports/z/ is last by path
    assert report == b"FINDINGS: No pneumothorax."
