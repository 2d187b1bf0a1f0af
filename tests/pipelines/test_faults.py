"""Faults: a build killed part-way (also in the label-model pass) resumes to the same bytes;
readers refuse unsafe tars."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from labelmill.manifests.built import read_manifest
from labelmill.pipelines.cli import app
from labelmill.pipelines.shard_reader import UnsafeShardError, iter_samples


def make_dataset(root: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    lines = ["id,image,report"]
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(
            root / "images" / f"{i}.png"
        )
        lines.append(f"s{i},images/{i}.png,No acute disease {i}.")
    (root / "m.csv").write_text("\n".join(lines) + "\n")
    return root / "m.csv"


def command(manifest: Path, out: Path) -> list[str]:
    exe = Path(sys.executable).with_name("labelmill")
    return [
        str(exe),
        "build",
        "--input",
        str(manifest),
        "--output",
        str(out),
        "--shard-max-samples",
        "8",
        "--max-image-side",
        "64",
        "--quiet",
    ]


@pytest.mark.timeout(300)
def test_sigkill_then_rerun_equals_a_clean_build(tmp_path):
    manifest = make_dataset(tmp_path / "data", 240)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        command(manifest, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "_work" / "shards").glob("shard-*.json")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "run.json").exists(), "the build finished before it could be killed"
    finished = list((out / "shards").glob("*.tar"))
    assert 0 < len(finished) < 30
    for shard in finished:  # whatever is under a final name is a complete tar
        with tarfile.open(shard) as tar:
            assert len(tar.getmembers()) % 3 == 0 and tar.getmembers()
    subprocess.run(command(manifest, out), check=True, capture_output=True, timeout=240)
    clean = tmp_path / "clean"
    subprocess.run(command(manifest, clean), check=True, capture_output=True, timeout=240)
    killed_shards = sorted((out / "shards").iterdir())
    assert [p.name for p in killed_shards] == [p.name for p in sorted((clean / "shards").iterdir())]
    for shard in killed_shards:
        assert shard.read_bytes() == (clean / "shards" / shard.name).read_bytes()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


SHARDS = 30  # 240 rows, 8 per shard


def ds_command(manifest: Path, out: Path) -> list[str]:
    return [
        *command(manifest, out),
        "--report-ontology",
        "chestxray14",
        "--aggregate",
        "dawid-skene",
    ]


def built_markers(out: Path) -> list[dict]:
    markers = []
    for path in (out / "_work" / "shards").glob("shard-*.json"):
        try:
            markers.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return markers


@pytest.mark.timeout(400)
def test_sigkill_during_the_label_model_pass_then_rerun_equals_a_clean_build(tmp_path):
    manifest = make_dataset(tmp_path / "data", 8 * SHARDS)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        ds_command(manifest, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 240
    while time.time() < deadline and len(built_markers(out)) < SHARDS:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "run.json").exists(), "the build finished before it could be killed"
    assert len(built_markers(out)) == SHARDS
    subprocess.run(ds_command(manifest, out), check=True, capture_output=True, timeout=300)
    clean = tmp_path / "clean"
    subprocess.run(ds_command(manifest, clean), check=True, capture_output=True, timeout=300)
    names = sorted(p.name for p in (clean / "shards").iterdir())
    assert sorted(p.name for p in (out / "shards").iterdir()) == names
    for name in names:
        assert (out / "shards" / name).read_bytes() == (clean / "shards" / name).read_bytes()
    assert read_manifest(str(out)) == read_manifest(str(clean))
    model = json.loads((clean / "_work" / "label_model.json").read_text())
    assert {m["label_model"] for m in built_markers(out)} == {model["sha256"]}


def evil_tar(path: Path, name: str) -> None:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))


@pytest.mark.parametrize("name", ["../escape.json", "/etc/evil.json", "a/../../b.json"])
def test_readers_refuse_unsafe_member_names(tmp_path, name):
    shard = tmp_path / "evil.tar"
    evil_tar(shard, name)
    with pytest.raises(UnsafeShardError):
        list(iter_samples(str(shard)))
    result = CliRunner().invoke(app, ["inspect", str(shard)])
    assert result.exit_code == 2 and "unsafe member name" in result.output
    assert not (tmp_path.parent / "escape.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["evil.tar"]


def test_export_relabel_refuses_a_shard_that_would_write_outside_its_target(tmp_path):
    built = tmp_path / "built"
    (built / "shards").mkdir(parents=True)
    evil_tar(built / "shards" / "evil.tar", "../../escaped.labelmap_idx.npy")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["export-relabel", str(built), str(out), "--num-classes", "9"])
    assert result.exit_code == 2 and "unsafe member name" in result.output
    assert not list(tmp_path.rglob("escaped*"))
