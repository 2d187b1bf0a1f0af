"""Damaged or planted build state: `_work/plan.json`, shard markers and image members that an
earlier crash, a full disk or an attacker left behind. Each gives a clear error or a rebuild,
never a traceback, a hang or a trusted lie."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from labelmill.audit.thumbs import shrink
from labelmill.pipelines.build import run
from labelmill.pipelines.cli import app
from labelmill.pipelines.plan import ResumeError
from tests.pipelines.test_bad_inputs import bomb_png
from tests.pipelines.test_build_resume import config, dataset, tars
from tests.pipelines.test_image_checks import wide_png
from tests.pipelines.test_shard_reader import rewrite_build

DAMAGE = [b"", b"{", b"[1, 2]", b"null", b"[" * 100_000, b"\xff\xfe\x00garbage"]


@pytest.mark.parametrize("damage", DAMAGE, ids=["empty", "cut", "list", "null", "deep", "binary"])
def test_a_damaged_plan_is_named_and_replaced_with_overwrite(tmp_path, damage):
    manifest = dataset(tmp_path / "data", 6)
    out = tmp_path / "out"
    (out / "_work").mkdir(parents=True)
    (out / "_work" / "plan.json").write_bytes(damage)
    with pytest.raises(ResumeError, match=r"damaged _work/plan.json.*--overwrite"):
        run(config(manifest, out), show_progress=False)
    assert run(config(manifest, out), overwrite=True, show_progress=False)["counts"]["written"] == 6


def test_a_plan_that_is_a_device_is_not_read(tmp_path):
    manifest = dataset(tmp_path / "data", 2)
    out = tmp_path / "out"
    (out / "_work").mkdir(parents=True)
    (out / "_work" / "plan.json").symlink_to("/dev/zero")
    with pytest.raises(ResumeError, match="damaged"):
        run(config(manifest, out), show_progress=False)


def damaged_markers(marker: dict) -> list[bytes]:
    """A marker cut short, of the wrong type, or with the right fingerprint and a bad body."""
    fingerprint = marker["fingerprint"]
    bodies = [
        {"fingerprint": fingerprint},
        {"fingerprint": fingerprint, "tars": "shards/shard-000000.tar"},
        {"fingerprint": fingerprint, "tars": [{"shard": "../../elsewhere.tar", "size": 1}]},
        {**marker, "tars": [{**marker["tars"][0], "size": "big"}]},
    ]
    return [b"{", b"[]", b"\x00" * 64] + [json.dumps(b).encode() for b in bodies]


def test_damaged_markers_rebuild_their_shard_byte_identically(tmp_path):
    manifest = dataset(tmp_path / "data", 8)
    out = tmp_path / "out"
    run(config(manifest, out), show_progress=False)
    clean = tars(out)
    marker_path = out / "_work" / "shards" / "shard-000000.json"
    marker = json.loads(marker_path.read_text())
    for damage in damaged_markers(marker):
        marker_path.write_bytes(damage)
        summary = run(config(manifest, out), show_progress=False)
        assert summary["shards_rebuilt"] == 1, damage
        assert tars(out) == clean
        assert json.loads(marker_path.read_text())["tars"] == marker["tars"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("image", [bomb_png(), wide_png(20_000, 20_000)], ids=["header", "real"])
def test_a_png_bomb_inside_a_shard_is_never_decoded_by_the_audit(tmp_path, sample_build, image):
    assert shrink(image) is None
    build = tmp_path / "build"
    shutil.copytree(sample_build, build)
    rewrite_build(build, {"png": image})
    result = CliRunner().invoke(app, ["audit", str(build), "-o", str(tmp_path / "audit")])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert result.output.count("\n") == 1 and "png" in result.output
    else:
        assert (tmp_path / "audit" / "index.html").exists()

