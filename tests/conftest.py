"""Shared fixtures: a build of the bundled sample data, made once per test session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="labelmill-hf-"))

REPO = Path(__file__).resolve().parents[1]
SAMPLE_MANIFEST = REPO / "sample_data" / "manifest.csv"


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data built with the in-process runner into a temporary folder."""
    from labelmill.pipelines.build import run
    from labelmill.schemas.config import BuildConfig

    out = tmp_path_factory.mktemp("sample_build")
    run(
        BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=10),
        show_progress=False,
    )
    return out
