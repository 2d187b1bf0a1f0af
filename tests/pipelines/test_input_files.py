"""Hostile paths in a manifest, generated here: each ends as a per-row reject with its reason
(outside the allowed roots, not a regular file, over max_file_bytes), never a read of a file
outside the dataset, a hang or a whole-file read of something huge."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from labelmill.manifests.built import read_rejects
from labelmill.pipelines.build import run
from labelmill.pipelines.cli import app
from labelmill.pipelines.load import LoadOptions, load_report, load_sample
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import InputRow, RejectError


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("L", (16, 16), 90).save(out, "PNG")
    return out.getvalue()


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ok.png").write_bytes(png_bytes())
    (data / "ok.txt").write_text("No effusion.")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0")
    (outside / "far.png").write_bytes(png_bytes())
    (data / "link.txt").symlink_to(outside / "secret.txt")
    (data / "loop.png").symlink_to(data / "loop.png")
    os.mkfifo(data / "fifo.png")
    os.mkfifo(data / "fifo.txt")
    with open(data / "sparse.png", "wb") as fh:
        fh.truncate(3 * 1024**3)  # 3 GB, sparse: reading it whole would take seconds and 3 GB
    return data


def reason(row: InputRow, options: LoadOptions | None = None) -> str:
    try:
        load_sample(row, "k", options or LoadOptions())
    except RejectError as exc:
        return exc.reason
    return "written"


def test_report_paths_outside_the_manifest_folder_are_rejected(dataset):
    def report(path: str) -> InputRow:
        return InputRow(1, "a", "ok.png", report_path=path, base=str(dataset))

    assert reason(report("ok.txt")) == "written"
    for path in ("/etc/passwd", "../../etc/hostname", "../outside/secret.txt", "link.txt"):
        assert reason(report(path)) == "path_outside_root", path
    allowed = LoadOptions(allow_roots=(str(dataset.parent / "outside"),))
    assert reason(report("link.txt"), allowed) == "written"
    assert load_report(report("link.txt"), allowed)[0] == "root:x:0:0"


def test_image_paths_are_confined_and_symlinks_resolved_first(dataset):
    far = str(dataset.parent / "outside" / "far.png")
    assert reason(InputRow(1, "a", far, base=str(dataset))) == "path_outside_root"
    options = LoadOptions(allow_roots=(str(dataset.parent / "outside"),))
    assert reason(InputRow(1, "a", far, base=str(dataset)), options) == "written"


@pytest.mark.timeout(20)
def test_special_files_are_rejected_without_blocking(dataset):
    assert reason(InputRow(1, "a", "fifo.png", base=str(dataset))) == "not_a_regular_file"
    row = InputRow(1, "a", "ok.png", report_path="fifo.txt", base=str(dataset))
    assert reason(row) == "not_a_regular_file"
    zero = InputRow(1, "a", "/dev/zero", base=str(dataset))
    assert reason(zero, LoadOptions(allow_roots=("/dev",))) == "not_a_regular_file"
    assert reason(InputRow(1, "a", "loop.png", base=str(dataset))) == "unreadable_file"


@pytest.mark.timeout(20)
def test_files_over_max_file_bytes_are_never_read(dataset):
    try:
        load_sample(InputRow(1, "a", "sparse.png", base=str(dataset)), "k", LoadOptions())
    except RejectError as exc:
        assert exc.reason == "file_too_large" and "max_file_bytes=256,000,000" in exc.detail
    small = LoadOptions(max_file_bytes=10)
    assert reason(InputRow(1, "a", "ok.png", base=str(dataset)), small) == "file_too_large"


def test_inline_report_and_report_path_together_are_rejected(dataset):
    row = InputRow(1, "a", "ok.png", report="inline", report_path="ok.txt", base=str(dataset))
    assert reason(row) == "report_ambiguous"


def test_a_build_rejects_each_hostile_path_and_balances(dataset, tmp_path):
    lines = [
        "id,image,report_path",
        "good,ok.png,ok.txt",
        "passwd,ok.png,/etc/passwd",
        "dotdot,ok.png,../../etc/hostname",
        "link,ok.png,link.txt",
        "fifo,fifo.png,",
        "sparse,sparse.png,",
        "far,../outside/far.png,",
    ]
    (dataset / "m.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    config = BuildConfig(input=str(dataset / "m.csv"), output=str(out))
    summary = run(config, show_progress=False)
    assert summary["counts"]["read"] == 7 and summary["counts"]["balanced"]
    reasons = {r["id"]: r["reason"] for r in read_rejects(str(out))}
    assert reasons == {
        "passwd": "path_outside_root",
        "dotdot": "path_outside_root",
        "link": "path_outside_root",
        "fifo": "not_a_regular_file",
        "sparse": "file_too_large",
        "far": "path_outside_root",
    }
    wide = tmp_path / "wide"
    args = ["build", "-i", str(dataset / "m.csv"), "-o", str(wide), "--quiet"]
    result = CliRunner().invoke(app, [*args, "--allow-root", str(tmp_path / "outside")])
    assert result.exit_code == 0, result.output
    allowed = {r["id"] for r in read_rejects(str(wide))}
    assert "link" not in allowed and "far" not in allowed and "passwd" in allowed
