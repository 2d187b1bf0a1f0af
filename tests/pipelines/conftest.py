"""Fixtures: the real `labelmill` app run in-process, and small manifests of sample studies."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelmill.pipelines.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def run_labelmill(*args: object) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def write_manifest(folder: Path, n: int = 3, sep: str = ",", header: tuple = ()) -> Path:
    """`n` sample studies (absolute image paths, a report and labels each) as a CSV. The images
    are copied beside it: paths outside the manifest's folder are rejected unless allowed."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    names = header or ("id", "image", "report", "labels", "age")
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, delimiter=sep)
        writer.writerow(names)
        for i in range(n):
            image = folder / "images" / f"study-{i:03d}.png"
            shutil.copyfile(SAMPLE / "images" / image.name, image)
            report = "FINDINGS: Small left pleural effusion. No pneumothorax."
            writer.writerow([f"s{i}", str(image), report, "effusion|PTX", 40 + i])
    return path


@pytest.fixture
def labelmill() -> Callable[..., tuple[int, str]]:
    return run_labelmill


@pytest.fixture
def small_manifest() -> Callable[..., Path]:
    return write_manifest
