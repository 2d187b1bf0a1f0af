"""Hostile shards and build folders, generated here: readers stop with one line naming the shard
and offset, verify lists each problem (never a traceback or a hang), inspect prints data as
inert text, and export-relabel writes nothing outside its output folder."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from labelmill.pipelines.cli import app
from labelmill.pipelines.shard_reader import UnsafeShardError, iter_samples
from labelmill.pipelines.shards import open_shard
from labelmill.pipelines.verify import verify


def write_shard(path: Path, samples: dict[str, dict[str, bytes]]) -> Path:
    with open_shard(str(path)) as writer:
        for key, members in samples.items():
            writer.write(key, members)
    return path


def doc(key: str, **extra) -> bytes:
    return json.dumps({"id": key, "key": key, "image": {}, "records": [], **extra}).encode()


def ten_samples(tmp_path: Path) -> Path:
    samples = {f"s{i}": {"json": doc(f"s{i}"), "txt": b"report"} for i in range(10)}
    return write_shard(tmp_path / "ten.tar", samples)


def test_a_bad_later_header_stops_every_reader_naming_shard_and_offset(tmp_path, sample_build):
    shard = ten_samples(tmp_path)
    data = bytearray(shard.read_bytes())
    data[3 * 1024 + 10] ^= 0xFF  # inside the 2nd sample's first header (name field)
    shard.write_bytes(bytes(data))
    with pytest.raises(UnsafeShardError, match=r"ten\.tar: bad tar header at offset 3072"):
        list(iter_samples(str(shard)))
    result = CliRunner().invoke(app, ["inspect", str(shard), "--n", "20"])
    assert result.exit_code == 2 and "offset 3072" in result.output
    build = tmp_path / "build"
    shutil.copytree(sample_build, build)
    target = build / "shards" / "shard-000000.tar"
    data = bytearray(target.read_bytes())
    second = 512 + -(-int(data[124:135], 8) // 512) * 512  # header of the second member
    data[second + 5] ^= 0xFF
    target.write_bytes(bytes(data))
    audit = CliRunner().invoke(app, ["audit", str(build), "-o", str(tmp_path / "audit")])
    assert audit.exit_code == 2 and f"offset {second}" in audit.output


def test_truncated_empty_and_random_shards_are_named(tmp_path):
    shard = ten_samples(tmp_path)
    whole = shard.read_bytes()
    cases = {
        "truncated": (whole[:2000], "truncated"),
        "empty": (b"", "is empty at offset 0"),
        "random": (np.random.default_rng(0).bytes(5000), "bad tar header at offset 0"),
        "no-end": (whole[: 20 * 512], "ends without its end block"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.tar"
        path.write_bytes(data)
        with pytest.raises(UnsafeShardError, match=message):
            list(iter_samples(str(path)))


def test_a_member_claiming_a_terabyte_is_refused_before_reading(tmp_path):
    info = tarfile.TarInfo("a.bin")
    info.size = 10**12
    header = info.tobuf(tarfile.GNU_FORMAT)
    (tmp_path / "tb.tar").write_bytes(header + bytes(1024))
    with pytest.raises(UnsafeShardError, match="claims 1,000,000,000,000 bytes"):
        list(iter_samples(str(tmp_path / "tb.tar")))


def rewrite_build(build: Path, extra: dict[str, bytes]) -> None:
    """Add members to the first sample of shard 0 and update every record of the build to
    match, as an attacker with write access would: only the member set can give it away."""
    shard = build / "shards" / "shard-000000.tar"
    samples = dict(iter_samples(str(shard)))
    first = next(iter(samples))
    samples[first].update(extra)
    write_shard(shard, samples)
    data = shard.read_bytes()
    run = json.loads((build / "run.json").read_text())
    run["shards"][0].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (build / "run.json").write_text(json.dumps(run))
    index = json.loads((build / "index.json").read_text())
    index["shardlist"][0]["md5sum"] = hashlib.md5(data).hexdigest()
    (build / "index.json").write_text(json.dumps(index))
    for part in sorted((build / "manifest").glob("part-*.parquet")):
        schema = pq.read_schema(part)
        table = pq.read_table(part).to_pylist()
        for row in table:
            if row["key"] == first:
                row["members"] = sorted(f"{first}.{s}" for s in samples[first])
                sizes = [len(samples[first][m.partition(".")[2]]) for m in row["members"]]
                row["member_sizes"] = sizes
        pq.write_table(pa.Table.from_pylist(table, schema=schema), part)


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=allow_pickle)
    return out.getvalue()


def test_verify_refuses_members_outside_the_build_member_set(tmp_path, sample_build):
    build = tmp_path / "build"
    shutil.copytree(sample_build, build)
    rewrite_build(build, {"pkl": b"\x80\x04K\x01."})
    problems = verify(str(build))
    assert any(".pkl is not a member labelmill writes" in p for p in problems), problems


def test_verify_reports_broken_members_without_a_traceback(tmp_path, sample_build):
    from tests.pipelines.test_image_checks import wide_png

    build = tmp_path / "build"
    shutil.copytree(sample_build, build)
    rewrite_build(
        build,
        {
            "json": b"[" * 100_000,
            "labelmap_idx.npy": npy(np.array([object()]), allow_pickle=True),
            "png": wide_png(20_000, 20_000),
        },
    )
    problems = "\n".join(verify(str(build)))
    assert "json does not decode: ValueError" in problems
    assert "labelmap_idx.npy does not decode" in problems and "allow_pickle" in problems
    assert "png does not decode" in problems and "decompression bomb" in problems
    audit = CliRunner().invoke(app, ["audit", str(build), "-o", str(tmp_path / "audit")])
    assert audit.exit_code == 2 and audit.output.count("\n") == 1
    assert "study-000.json does not follow the sample layout" in audit.output


@pytest.mark.timeout(30)
def test_verify_on_damaged_shards_and_device_names_lists_problems(tmp_path, sample_build):
    build = tmp_path / "build"
    shutil.copytree(sample_build, build)
    shards = sorted((build / "shards").glob("*.tar"))
    shards[0].write_bytes(shards[0].read_bytes()[:1500])
    shards[1].write_bytes(b"")
    shards[2].write_bytes(np.random.default_rng(1).bytes(4096))
    shards[3].unlink()
    shards[3].symlink_to("/dev/zero")
    run = json.loads((build / "run.json").read_text())
    run["shards"].append({"shard": "../../../../../../dev/zero", "size": 1, "sha256": ""})
    (build / "run.json").write_text(json.dumps(run))
    problems = verify(str(build))
    text = "\n".join(problems)
    assert f"{shards[0].name}: unreadable" in text and "truncated" in text
    assert f"{shards[1].name}: unreadable" in text and "is empty" in text
    assert f"{shards[2].name}: unreadable" in text and "bad tar header" in text
    assert f"{shards[3].name}: not a regular file" in text
    assert "'../../../../../../dev/zero', which is not shards/NAME.tar" in text
    result = CliRunner().invoke(app, ["verify", str(build)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_inspect_prints_hostile_text_inert(tmp_path):
    report = "[/] [bold]x[/bold] [link=https://evil.example]click[/link] \x1b]0;owned\x07 \x1b[2J"
    shard = write_shard(
        tmp_path / "h.tar",
        {
            "k": {
                "json": doc("k\x1b[31m", records=[{"source": "[red]s", "labels": {"[/]": 1}}]),
                "txt": report.encode(),
            },
        },
    )
    result = CliRunner().invoke(app, ["inspect", str(shard)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "[/]" in result.output and "[link=https://evil.example]" in result.output
    assert "\\x1b]0;owned\\x07" in result.output


def test_inspect_names_samples_whose_json_is_broken_and_exits_non_zero(tmp_path):
    shard = write_shard(
        tmp_path / "j.tar",
        {
            "a": {"json": b"{not json", "txt": b""},
            "b": {"json": b"[" * 100_000, "txt": b""},
            "c": {"json": doc("c"), "txt": b"fine"},
        },
    )
    result = CliRunner().invoke(app, ["inspect", str(shard)])
    assert result.exit_code == 1
    assert "j.tar: a:" in result.output and "nested too deeply" in result.output
    assert "fine" in result.output


def maps(key: str) -> dict[str, bytes]:
    index = np.zeros((2, 2, 2), dtype=np.int16)
    score = np.full((2, 2, 2), 0.25, dtype=np.float16)
    return {"json": doc(key), "labelmap_idx.npy": npy(index), "labelmap_score.npy": npy(score)}


def test_export_relabel_never_writes_outside_out(tmp_path):
    built = tmp_path / "built" / "shards"
    built.mkdir(parents=True)
    write_shard(built / "a.tar", {"good": maps("good")})
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.npy"
    victim.write_bytes(b"keep me")
    (out / "good.npy").symlink_to(victim)
    result = CliRunner().invoke(
        app, ["export-relabel", str(tmp_path / "built"), str(out), "--num-classes", "10"]
    )
    assert result.exit_code == 0, result.output
    assert victim.read_bytes() == b"keep me" and not (out / "good.npy").is_symlink()
    assert np.load(out / "good.npy").shape == (2, 2, 2, 2)
    write_shard(built / "b.tar", {"sub/dir": maps("sub/dir")})
    result = CliRunner().invoke(
        app, ["export-relabel", str(tmp_path / "built"), str(out), "--num-classes", "10"]
    )
    assert result.exit_code == 2 and "'sub/dir' is not a plain file name" in result.output
    assert not (out / "sub").exists()
