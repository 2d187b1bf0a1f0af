"""The build end to end: outputs, accounting, determinism, resume, and runners."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labelmill.manifests.built import read_manifest, read_rejects
from labelmill.pipelines.build import run
from labelmill.pipelines.plan import ResumeError
from labelmill.schemas.config import BuildConfig

SAMPLE_MANIFEST = Path(__file__).resolve().parents[2] / "sample_data" / "manifest.csv"


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


def build(out: Path, verify_resume: bool = False, **kwargs) -> dict:
    config = BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=10)
    for key, value in kwargs.items():
        config = type(config)(**{**config.__dict__, key: value})
    return run(config, show_progress=False, verify_resume=verify_resume)


def test_outputs_and_accounting(sample_build):
    summary = json.loads((sample_build / "run.json").read_text())
    counts = summary["counts"]
    assert counts == {
        "read": 38,
        "written": 36,
        "rejected": 2,
        "rejected_by_reason": {"duplicate_id": 1, "file_not_found": 1},
        "balanced": True,
    }
    names = sorted(p.name for p in (sample_build / "shards").glob("*"))
    assert names == [f"shard-{i:06d}.tar" for i in range(4)]
    index = json.loads((sample_build / "index.json").read_text())
    assert index["__kind__"] == "wids-shard-index-v1" and index["wids_version"] == 1
    assert [s["url"] for s in index["shardlist"]] == [f"shards/{n}" for n in names]
    assert sum(s["nsamples"] for s in index["shardlist"]) == 36
    manifest = read_manifest(str(sample_build))
    assert len(manifest) == 36 and len({m["key"] for m in manifest}) == 36
    assert sorted(p.name for p in (sample_build / "manifest").iterdir()) == [
        f"part-{i:06d}.parquet" for i in range(4)
    ]
    rejects = read_rejects(str(sample_build))
    assert {(r["id"], r["reason"]) for r in rejects} == {
        ("study-missing", "file_not_found"),
        ("study-001", "duplicate_id"),
    }
    assert summary["versions"]["apache-beam"]
    assert [s["nsamples"] for s in summary["shards"]] == [10, 10, 10, 6]


def test_every_sample_has_the_same_members(sample_build):
    import tarfile

    for shard in (sample_build / "shards").glob("*.tar"):
        with tarfile.open(shard) as tar:
            members = tar.getmembers()
        suffixes: dict[str, set[str]] = {}
        for m in members:
            key, _, suffix = m.name.partition(".")
            suffixes.setdefault(key, set()).add(suffix)
            assert m.mtime == 946684800 and m.uid == 0 and m.mode == 0o644
        assert all(s == {"json", "png", "txt"} for s in suffixes.values())


def test_rebuild_is_byte_identical(sample_build, tmp_path):
    build(tmp_path / "again")
    assert shard_bytes(tmp_path / "again") == shard_bytes(sample_build)


def test_resume_redoes_missing_shards_and_with_verify_damaged_ones(sample_build, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(sample_build, out)
    (out / "shards" / "shard-000001.tar").unlink()
    (out / "manifest" / "part-000003.parquet").unlink()
    damaged = out / "shards" / "shard-000002.tar"
    data = bytearray(damaged.read_bytes())
    data[1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert build(out)["shards_rebuilt"] == 2  # same size: kept without --verify-resume
    assert build(out, verify_resume=True)["shards_rebuilt"] == 1
    assert shard_bytes(out) == shard_bytes(sample_build)
    assert read_manifest(str(out)) == read_manifest(str(sample_build))
    assert build(out)["shards_rebuilt"] == 0


def test_other_config_refuses_unless_overwrite(sample_build, tmp_path):
    out = tmp_path / "cfg"
    shutil.copytree(sample_build, out)
    with pytest.raises(ResumeError, match="--overwrite"):
        run(
            BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=7),
            show_progress=False,
        )
    summary = run(
        BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=7),
        overwrite=True,
        show_progress=False,
    )
    assert len(summary["shards"]) == 6 and summary["counts"]["balanced"]


@pytest.mark.timeout(300)
def test_multi_processing_workers_give_the_same_shards(sample_build, tmp_path):
    """Two out-of-process workers, as on Dataflow: every stage must pickle and run elsewhere."""
    out = tmp_path / "mp"
    config = BuildConfig(input=str(SAMPLE_MANIFEST), output=str(out), shard_max_samples=10)
    beam_args = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]
    summary = run(config, beam_args, show_progress=False)
    assert summary["counts"]["balanced"]
    assert shard_bytes(out) == shard_bytes(sample_build)


def test_shard_max_bytes_cuts_by_source_size(tmp_path):
    summary = build(tmp_path / "bytes", shard_max_bytes=200_000, shard_max_samples=1000)
    sizes = [s["nsamples"] for s in summary["shards"]]
    assert len(sizes) > 3 and sum(sizes) == 36


def test_inputs_and_outputs_on_a_remote_file_system(tmp_path):
    """Any fsspec URL works for inputs and outputs; `memory://` stands in for gs:// and s3://."""
    import fsspec

    fs = fsspec.filesystem("memory")
    source = SAMPLE_MANIFEST.parent
    for path in sorted((source / "images").iterdir())[:6]:
        fs.pipe(f"/data/images/{path.name}", path.read_bytes())
    names = sorted(p.name for p in (source / "images").iterdir())[:6]
    rows = "\n".join(f"{n.split('.')[0]},images/{n},Report {n}." for n in names)
    fs.pipe("/data/m.csv", f"id,image,report\n{rows}\n".encode())
    summary = run(
        BuildConfig(input="memory://data/m.csv", output="memory://out", shard_max_samples=4),
        show_progress=False,
    )
    assert summary["counts"]["written"] == 6 and summary["counts"]["balanced"]
    assert fs.exists("/out/shards/shard-000001.tar") and fs.exists(
        "/out/manifest/part-000001.parquet"
    )
    assert not [p for p in fs.find("/out") if ".tmp-" in p]
    from labelmill.pipelines.verify import verify

    assert verify("memory://out") == []
