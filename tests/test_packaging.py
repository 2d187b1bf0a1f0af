"""What a Dataflow worker gets: the wheel that `docker/Dockerfile` installs, and the image's
pins and offline checks. The image itself needs a Docker daemon and the SDK base image, so these
checks run the same steps against this environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def arg(name: str) -> str:
    return re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.M).group(1)


def test_the_image_pins_agree_with_the_project() -> None:
    assert arg("BEAM_VERSION") == metadata.version("apache-beam")
    assert arg("PYTHON_VERSION") == f"{sys.version_info.major}.{sys.version_info.minor}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"torch=={arg("TORCH_VERSION")}"' in pyproject


@pytest.mark.timeout(300)
def test_the_wheel_carries_the_data_files_workers_read(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("labelmill-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "labelmill/labelers/reports/lang/en.yaml",
        "labelmill/labelers/reports/lang/es.yaml",
        "labelmill/ontologies/chestxray14.yaml",
        "labelmill/ontologies/crosswalk.yaml",
        "labelmill/pipelines/build.py",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("labelmill/tests/", "labelmill/sample_data/")) for n in names)


@pytest.mark.timeout(300)
def test_the_image_build_checks_pass_offline() -> None:
    """The Dockerfile's last RUN: each bundled model loads with the hub switched off."""
    checks = re.findall(r'python -c "([^"]+)"', DOCKERFILE)
    assert len(checks) == 2
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for code in checks:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{code}: {done.stderr[-2000:]}"
