"""Faults around a build, provoked here: each ends as one clear line at the command line (no
traceback), the output stays safe to resume, and nothing outlives or litters after a kill."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelmill.pipelines import outputs, shards
from labelmill.pipelines.cli import app
from labelmill.pipelines.cli_errors import one_line
from labelmill.pipelines.site_checks import check_output
from labelmill.pipelines.verify import verify
from labelmill.schemas.config import ConfigError
from tests.pipelines.test_faults import make_dataset

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "manifest.csv"


def build(out: Path, *extra: str):
    args = ["build", "-i", str(SAMPLE), "-o", str(out), "--quiet", "--shard-max-samples", "10"]
    return CliRunner().invoke(app, [*args, *extra])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    return lines[0]


def test_an_output_that_is_a_file_or_not_writable_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in one_error_line(build(tmp_path / "file"))
    assert "which is a file" in one_error_line(build(tmp_path / "file" / "sub"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anywhere
    with pytest.raises(ConfigError, match="is not writable by this user"):
        check_output(str(tmp_path / "new" / "out"))


@pytest.mark.timeout(60)
def test_a_manifest_that_is_a_fifo_loop_or_unreadable_is_one_line(tmp_path):
    fifo = tmp_path / "m.csv"
    os.mkfifo(fifo)
    args = ["build", "-o", str(tmp_path / "out"), "--quiet", "-i"]
    line = one_error_line(CliRunner().invoke(app, [*args, str(fifo)]))
    assert "m.csv: not a regular file" in line
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    assert "a symlink loop" in one_error_line(CliRunner().invoke(app, [*args, str(loop)]))


def fail_with_enospc(monkeypatch, target, name, after: int = 0):
    calls = {"n": 0}
    original = getattr(target, name)

    def full(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, full)


def test_enospc_while_writing_shards_is_one_line_and_the_build_resumes(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        # one write per sample and one per shard end: 40 in all; fail in the second shard
        fail_with_enospc(patch, shards.ShardWriter, "_write", after=15)
        line = one_error_line(build(out))
    assert "no space left on device" in line and "rerun to resume" in line
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]  # no partial files
    assert build(out).exit_code == 0 and verify(str(out)) == []


def test_enospc_while_writing_the_final_files_is_one_line(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        original = outputs.write_json

        def full(url, value, indent=2):
            if url.endswith("run.json"):
                raise OSError(errno.ENOSPC, "No space left on device", url)
            original(url, value, indent)

        patch.setattr(outputs, "write_json", full)
        assert "no space left on device writing" in one_error_line(build(out))
    assert not (out / "run.json").exists()
    assert build(out).exit_code == 0 and verify(str(out)) == []


def test_device_cuda_without_a_gpu_is_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    line = one_error_line(
        build(tmp_path / "o", "--image-model", "imagenet-demo", "--device", "cuda")
    )
    assert "cuda asked for, but this machine has 0 CUDA device(s)" in line


def test_an_unreachable_llm_url_is_one_line(tmp_path):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    line = one_error_line(build(tmp_path / "o", "--harmonize", "chestxray14", "--llm", url))
    assert line.startswith("error: harmonize:") and "Connection refused" in line


def test_one_line_reports_the_cause_behind_a_wrapper():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/x/shard.tar")
        except OSError:
            raise RuntimeError("OSError: ... [while running 'BuildShards']\n  File ...") from None
    except RuntimeError as exc:
        exc.__context__ = exc.__context__ or OSError(errno.ENOSPC, "full", "/x/shard.tar")
        assert one_line(exc) == (
            "no space left on device writing /x/shard.tar; free space and rerun to resume the build"
        )
    assert one_line(ValueError("bad\nsecond line")) == "ValueError: bad"


def test_the_console_script_prints_one_line_for_an_unhandled_error(tmp_path):
    exe = Path(sys.executable).with_name("labelmill")
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [str(exe), "inspect", str(tmp_path / "nothing.tar")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (Beam starts its workers through `sh -c`)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found.extend(below)
        frontier = below
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


LAUNCHER = """
import subprocess, sys, time
from labelmill.pipelines.orphans import mark_launcher
mark_launcher()
worker = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
subprocess.Popen(["sh", "-c", f"{sys.executable} -c '{worker}'"])
time.sleep(300)
"""


@pytest.mark.timeout(60)
def test_a_worker_that_ignores_everything_dies_with_its_killed_launcher():
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER], env=dict(os.environ))
    deadline = time.time() + 20
    while time.time() < deadline and len(descendants(proc.pid)) < 2:  # sh and the worker
        time.sleep(0.05)
    time.sleep(0.5)
    workers = descendants(proc.pid)
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    survivors = [w for w in workers if alive(w)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors


@pytest.mark.timeout(300)
def test_beam_workers_exit_when_the_launcher_is_killed(tmp_path):
    manifest = make_dataset(tmp_path / "data", 400)
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("labelmill")
    command = [
        str(exe),
        "build",
        "-i",
        str(manifest),
        "-o",
        str(out),
        "--quiet",
        "--shard-max-samples",
        "4",
        "--direct_num_workers",
        "2",
        "--direct_running_mode",
        "multi_processing",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 150
    while time.time() < deadline and not list((out / "_work" / "shards").glob("shard-*.json")):
        time.sleep(0.1)
    workers = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert workers, "no worker processes were started"
    deadline = time.time() + 30
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.2)
    survivors = [w for w in workers if alive(w)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors


def test_a_temp_file_left_by_a_kill_during_the_final_writes_is_cleaned(tmp_path):
    out = tmp_path / "out"
    assert build(out).exit_code == 0
    (out / "manifest.parquet.tmp-0123456789ab").write_bytes(b"half a file")
    (out / "run.json").unlink()  # killed before run.json was written
    assert build(out).exit_code == 0
    assert not list(out.glob("*.tmp-*")) and verify(str(out)) == []
