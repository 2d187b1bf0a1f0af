"""Builds with inputs and outputs on real servers on 127.0.0.1: fake-gcs-server (gs://), moto
(s3://), and a web server that injects 500s, resets and stalls (http://). Each must give the
same shards, byte for byte, as the local build of the same data, and resume, verify and audit
must work on the remote output."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import fsspec
import pytest

from labelmill.audit import audit
from labelmill.manifests.built import read_rejects
from labelmill.pipelines.build import run
from labelmill.pipelines.verify import verify
from labelmill.schemas.config import BuildConfig
from labelmill.testing.http_server import Faults, FaultyServer
from labelmill.testing.object_stores import fake_gcs, moto_s3, upload

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
STORES = {"gs": fake_gcs, "s3": moto_s3}


@pytest.fixture(scope="module", params=sorted(STORES))
def bucket(request: pytest.FixtureRequest) -> str:
    with STORES[request.param]() as url:
        upload(SAMPLE, f"{url}/data")
        yield url


def _local_shards(build: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((build / "shards").glob("*.tar"))}


def _remote_shards(output: str) -> dict[str, bytes]:
    fs, root = fsspec.core.url_to_fs(output)
    return {p.rsplit("/", 1)[1]: fs.cat_file(p) for p in sorted(fs.glob(f"{root}/shards/*.tar"))}


def _build(input: str, output: str, **options) -> dict:
    config = BuildConfig(input=input, output=output, shard_max_samples=10, **options)
    return run(config, show_progress=False)


def test_object_store_build_equals_the_local_build(bucket: str, sample_build: Path) -> None:
    output = f"{bucket}/out-{uuid.uuid4().hex[:8]}"
    summary = _build(f"{bucket}/data/manifest.csv", output)
    local = json.loads((sample_build / "run.json").read_text())
    assert summary["counts"] == local["counts"]
    assert _remote_shards(output) == _local_shards(sample_build)
    rejects = read_rejects(output)
    assert sorted(r["reason"] for r in rejects) == ["duplicate_id", "file_not_found"]
    assert verify(output) == []

    fs, root = fsspec.core.url_to_fs(output)
    assert not [p for p in fs.find(root) if ".tmp-" in p]
    assert _build(f"{bucket}/data/manifest.csv", output)["shards_rebuilt"] == 0
    fs.rm(f"{root}/shards/shard-000001.tar")  # a lost shard is rebuilt, the same bytes again
    assert _build(f"{bucket}/data/manifest.csv", output)["shards_rebuilt"] == 1
    assert _remote_shards(output) == _local_shards(sample_build)

    metrics = audit(output, f"{output}/audit")
    assert metrics["summary"]["samples"] == local["counts"]["written"]
    assert fs.size(f"{root}/audit/index.html") > 1000


def test_http_build_survives_injected_faults(tmp_path: Path, sample_build: Path) -> None:
    """The manifest and its relative image and report paths served over http, with a fifth of
    the files answering 500 first, a tenth reset mid-body and a tenth stalling past the timeout."""
    faults = Faults(
        error_rate=0.2, reset_rate=0.1, slow_rate=0.1, slow_seconds=1.5, spare=("manifest.csv",)
    )
    with FaultyServer(SAMPLE, faults) as server:
        summary = _build(f"{server.url}/manifest.csv", str(tmp_path / "out"), fetch_timeout=0.5)
    assert all(server.counts[kind] > 0 for kind in ("500", "reset", "slow"))
    assert summary["counts"] == json.loads((sample_build / "run.json").read_text())["counts"]
    assert _local_shards(tmp_path / "out") == _local_shards(sample_build)


def test_image_urls_that_keep_failing_are_rejected_with_url_and_error(tmp_path: Path) -> None:
    """The img2dataset case: a manifest of absolute URLs; one server error that never clears,
    one 404; the rest written, the user agent sent."""
    images = sorted((SAMPLE / "images").glob("*.png"))[:5]
    faults = Faults(always_fail=(f"images/{images[0].name}",))
    with FaultyServer(SAMPLE, faults) as server:
        urls = [f"{server.url}/images/{p.name}" for p in images] + [f"{server.url}/images/no.png"]
        manifest = tmp_path / "urls.csv"
        lines = [f"u{i},{url}" for i, url in enumerate(urls)]
        manifest.write_text("id,image\n" + "\n".join(lines) + "\n")
        summary = _build(
            str(manifest),
            str(tmp_path / "out"),
            fetch_retries=2,
            user_agent="labelmill-test/1",
            allow_roots=(server.url,),  # URLs outside the manifest's folder are allowed by name
        )
    assert summary["counts"]["written"] == 4 and summary["counts"]["balanced"]
    assert summary["counts"]["rejected_by_reason"] == {"fetch_failed": 1, "file_not_found": 1}
    rejects = {r["id"]: r for r in read_rejects(str(tmp_path / "out"))}
    assert urls[0] in rejects["u0"]["detail"] and "503" in rejects["u0"]["detail"]
    assert "after 3 attempts" in rejects["u0"]["detail"]
    assert "labelmill-test/1" in server.user_agents  # the image reads send it
