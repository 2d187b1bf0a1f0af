"""A missing file-system package is one clear error naming the extra, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labelmill.extras import MissingExtraError
from labelmill.filesystems import protocol, require_filesystems

BLOCK = "import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
CLI = "sys.argv = ['labelmill', *{argv!r}]\nfrom labelmill.pipelines.cli import main\nmain()\n"


def _cli_without(blocked: list[str], argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter in which `blocked` modules cannot be imported."""
    code = BLOCK.format(blocked=blocked) + CLI.format(argv=argv)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_protocols() -> None:
    assert protocol("/data/x.png") == "file" and protocol("GS://b/x") == "gs"
    assert require_filesystems(["a.png", "memory://x/y", "b.png"], "the file") == {"file", "memory"}
    with pytest.raises(ValueError, match="no file system knows the protocol 'nosuch'"):
        require_filesystems(["nosuch://x"], "the file")


def test_gs_manifest_without_gcsfs(tmp_path: Path) -> None:
    done = _cli_without(["gcsfs"], ["build", "-i", "gs://b/m.csv", "-o", "out"], tmp_path)
    assert done.returncode == 2
    assert 'pip install "labelmill[gcp]"' in done.stderr and "gcsfs" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_http_images_without_requests_stop_before_any_row(tmp_path: Path) -> None:
    rows = "\n".join(f"r{i},http://127.0.0.1:9/i{i}.png" for i in range(5))
    (tmp_path / "m.csv").write_text(f"id,image\n{rows}\n")
    done = _cli_without(["requests"], ["build", "-i", "m.csv", "-o", "out"], tmp_path)
    assert done.returncode == 2
    assert 'pip install "labelmill[http]"' in done.stderr
    assert "http://127.0.0.1:9/i0.png" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "run.json").exists()


def test_missing_extra_inside_a_worker_is_raised_not_rejected(monkeypatch) -> None:
    """A protocol first seen past the checked rows fails the shard with the same error."""
    from labelmill import fetch
    from labelmill.pipelines.load import LoadOptions
    from labelmill.pipelines.shard_stage import _load
    from labelmill.schemas.records import InputRow

    monkeypatch.setattr(fetch, "require_protocol", _refuse)
    fetch._checked.cache_clear()
    try:
        with pytest.raises(MissingExtraError, match=r"labelmill\[s3\]"):
            row = InputRow(row=1, id="a", image="s3://b/a.png", base="s3://b")
            _load((row, "a"), LoadOptions())
    finally:
        fetch._checked.cache_clear()


def _refuse(proto: str, needed_for: str) -> None:
    raise MissingExtraError("s3fs", "s3", needed_for)


HEAVY = ["torch", "transformers", "matplotlib", "sentence_transformers", "llama_cpp", "gcsfs"]


def test_the_core_builds_and_mines_reports_without_any_extra(tmp_path: Path) -> None:
    manifest = Path(__file__).resolve().parents[1] / "sample_data" / "manifest.csv"
    argv = ["build", "-i", str(manifest), "-o", "out", "--report-ontology", "chestxray14"]
    done = _cli_without(HEAVY, argv, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "run.json").exists()
    image_model = ["build", "-i", str(manifest), "-o", "out2", "--image-model", "imagenet-demo"]
    done = _cli_without(HEAVY, image_model, tmp_path)
    assert done.returncode == 2 and 'pip install "labelmill[images]"' in done.stderr
