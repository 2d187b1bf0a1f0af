"""What a shard's fingerprint covers beyond the config: labelmill's own code and data."""

from __future__ import annotations

import pytest

from labelmill.labelers.reports import engine
from labelmill.pipelines import fingerprint
from labelmill.schemas.config import BuildConfig, LabelerSpec


@pytest.fixture
def fresh_digest():
    fingerprint.own_digest.cache_clear()
    yield
    fingerprint.own_digest.cache_clear()


def test_an_upgraded_report_engine_changes_the_fingerprint(monkeypatch, fresh_digest) -> None:
    config = BuildConfig(
        input="m.csv", output="out", labelers=(LabelerSpec("reports", {"ontology": "chexpert"}),)
    )
    before = fingerprint.config_fingerprint(config)
    assert fingerprint.config_fingerprint(config) == before  # stable
    monkeypatch.setattr(engine, "ENGINE_VERSION", "99.0.0")
    fingerprint.own_digest.cache_clear()
    assert fingerprint.config_fingerprint(config) != before


def test_shipped_data_files_are_in_the_digest(fresh_digest) -> None:
    digest = fingerprint.own_digest()
    assert set(digest) == {"version", "engine", "data"} and len(digest["data"]) == 64
