"""The sample build through the portable runner, the path Dataflow Runner v2 takes: in-process
LOOPBACK workers, and an EXTERNAL worker pool in another process with another working folder.
Both must give the default runner's bytes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelmill.manifests.built import read_manifest, read_rejects
from labelmill.pipelines.build import run
from labelmill.schemas.config import BuildConfig

SAMPLE_MANIFEST = Path(__file__).resolve().parents[2] / "sample_data" / "manifest.csv"


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


def assert_same_build(out: Path, expected: Path) -> None:
    assert shard_bytes(out) == shard_bytes(expected)
    assert read_manifest(str(out)) == read_manifest(str(expected))
    assert read_rejects(str(out)) == read_rejects(str(expected))
    for name in ("index.json",):
        assert (out / name).read_bytes() == (expected / name).read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(300)
def test_portable_runner_loopback_gives_the_same_bytes(sample_build, tmp_path):
    out = tmp_path / "loopback"
    args = ["--runner", "PortableRunner", "--job_endpoint", "embed"]
    args += ["--environment_type", "LOOPBACK"]
    config = BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=10)
    summary = run(config, args, show_progress=False)
    assert summary["counts"]["balanced"]
    assert_same_build(out, sample_build)


@pytest.fixture
def worker_pool(tmp_path):
    """A Beam worker pool on 127.0.0.1, started in its own working folder. It starts workers
    as `python` from PATH, so this interpreter's folder goes first."""
    port = free_port()
    cwd = tmp_path / "pool-cwd"
    cwd.mkdir()
    command = [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main"]
    proc = subprocess.Popen(
        [*command, "--service_port", str(port)],
        cwd=cwd,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield port
    proc.kill()
    proc.wait()


@pytest.mark.timeout(300)
def test_external_worker_pool_with_a_relative_output(
    sample_build, tmp_path, worker_pool, monkeypatch
):
    """Workers run in another process and folder: a relative --output must still work."""
    monkeypatch.chdir(tmp_path)
    args = ["--runner", "PortableRunner", "--job_endpoint", "embed"]
    args += ["--environment_type", "EXTERNAL", "--environment_config", f"127.0.0.1:{worker_pool}"]
    config = BuildConfig(input=str(SAMPLE_MANIFEST), output="rel-external", shard_max_samples=10)
    summary = run(config, args, show_progress=False)
    assert summary["counts"]["balanced"]
    assert summary["config"]["output"] == str(tmp_path / "rel-external")
    assert_same_build(tmp_path / "rel-external", sample_build)
