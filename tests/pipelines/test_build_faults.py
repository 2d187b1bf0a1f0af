"""A Dawid-Skene build killed with SIGKILL once every shard is built (while the label model is
fitted and the final records written) resumes to the bytes of a clean build."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_faults import command, make_dataset

from labelmill.manifests.built import read_manifest

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
