"""A resumed build keeps only shards whose inputs are unchanged, one build at a time holds an
output, and a job that did not finish is never reported as a build."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelmill.pipelines.build import (
    BuildNotFinished,
    check_finished,
    check_paths,
    pipeline_options,
    run,
)
from labelmill.pipelines.lock import OutputLockedError, output_lock
from labelmill.pipelines.plan import ResumeError
from labelmill.schemas.config import BuildConfig


def dataset(root: Path, n: int = 12) -> Path:
    (root / "images").mkdir(parents=True)
    lines = ["id,image,report"]
    for i in range(n):
        pixels = np.full((16, 16), i * 10, dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"{i}.png")
        lines.append(f"s{i},images/{i}.png,Report {i}.")
    (root / "m.csv").write_text("\n".join(lines) + "\n")
    return root / "m.csv"


def config(manifest: Path, out: Path, **extra) -> BuildConfig:
    return BuildConfig(input=str(manifest), output=str(out), shard_max_samples=4, **extra)


def tars(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


def test_changed_image_or_row_rebuilds_only_its_shard(tmp_path):
    manifest = dataset(tmp_path / "data")
    out = tmp_path / "out"
    run(config(manifest, out), show_progress=False)
    first = tars(out)
    image = tmp_path / "data" / "images" / "5.png"
    Image.fromarray(np.full((16, 16), 255, dtype=np.uint8)).save(image)  # same size, new bytes
    summary = run(config(manifest, out), show_progress=False)
    assert summary["shards_rebuilt"] == 1
    changed = {name for name, data in tars(out).items() if first[name] != data}
    assert changed == {"shard-000001.tar"}
    text = manifest.read_text().replace("Report 9.", "Report nine.")
    manifest.write_text(text)
    assert run(config(manifest, out), show_progress=False)["shards_rebuilt"] == 1
    clean = tmp_path / "clean"
    run(config(manifest, clean), show_progress=False)
    assert tars(out) == tars(clean)


def test_how_fast_inputs_are_read_is_not_part_of_the_config(tmp_path):
    manifest = dataset(tmp_path / "data", 8)
    out = tmp_path / "out"
    run(config(manifest, out), show_progress=False)
    faster = replace(
        config(manifest, out), load_threads=1, fetch_threads=2, fetch_timeout=5.0, fetch_retries=1
    )
    assert run(faster, show_progress=False)["shards_rebuilt"] == 0


def test_a_shrunk_input_leaves_no_stale_shards(tmp_path):
    manifest = dataset(tmp_path / "data")
    out = tmp_path / "out"
    run(config(manifest, out), show_progress=False)
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join(lines[:6]) + "\n")
    summary = run(config(manifest, out), show_progress=False)
    assert summary["counts"]["read"] == 5
    assert sorted(p.name for p in (out / "shards").iterdir()) == [
        "shard-000000.tar",
        "shard-000001.tar",
    ]
    assert len(list((out / "manifest").iterdir())) == 2


def test_ontology_file_content_is_part_of_the_config(tmp_path):
    from labelmill.schemas.config import LabelerSpec
    from labelmill.schemas.ontology import builtin_names

    assert "chestxray14" in builtin_names()
    source = Path(__file__).resolve().parents[2] / "ontologies" / "chestxray14.yaml"
    ontology = tmp_path / "mine.yaml"
    shutil.copy(source, ontology)
    manifest = dataset(tmp_path / "data", 4)
    labelers = (LabelerSpec("reports", {"ontology": str(ontology)}),)
    out = tmp_path / "out"
    run(config(manifest, out, labelers=labelers), show_progress=False)
    ontology.write_text(ontology.read_text() + "\n# edited\n")
    with pytest.raises(ResumeError, match="--overwrite"):
        run(config(manifest, out, labelers=labelers), show_progress=False)


def test_a_second_build_into_the_same_output_is_refused(tmp_path):
    manifest = dataset(tmp_path / "data", 4)
    out = tmp_path / "out"
    with output_lock(str(out)):
        with pytest.raises(OutputLockedError, match=f"pid.*{os.getpid()}"):
            run(config(manifest, out), show_progress=False)
        with pytest.raises(OutputLockedError):
            run(config(manifest, out), overwrite=True, show_progress=False)
    assert run(config(manifest, out), show_progress=False)["counts"]["written"] == 4


def test_object_store_lock_is_an_object(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    with output_lock("memory://locked"):
        assert fs.exists("/locked/.labelmill.lock")
        with pytest.raises(OutputLockedError, match="delete"):
            with output_lock("memory://locked"):
                pass
    assert not fs.exists("/locked/.labelmill.lock")


def test_local_paths_with_a_remote_runner_are_refused(tmp_path):
    options = pipeline_options(["--runner", "DataflowRunner"])
    with pytest.raises(ValueError, match="local path"):
        check_paths(BuildConfig(input="m.csv", output="gs://b/out"), options)
    fine = check_paths(BuildConfig(input="gs://b/m.csv", output="gs://b/out"), options)
    assert fine.input == "gs://b/m.csv"
    local = check_paths(BuildConfig(input="m.csv", output="out"), pipeline_options([]))
    assert local.output == os.path.abspath("out")


class FakeResult:
    def __init__(self, state):
        self.state = state

    def wait_until_finish(self):
        return self.state


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "UNKNOWN", None])
def test_a_job_that_is_not_done_is_not_a_build(state):
    with pytest.raises(BuildNotFinished, match="no build output is claimed"):
        check_finished(FakeResult(state))
    with pytest.raises(BuildNotFinished):
        check_finished(None)
    check_finished(FakeResult("DONE"))


@pytest.mark.parametrize(
    "args", [["--dry_run", "True"], ["--template_location", "gs://b/template.json"]]
)
def test_a_dry_run_or_a_template_is_not_a_build(args):
    """A Dataflow dry run reports DONE without running: the options decide first."""
    with pytest.raises(BuildNotFinished, match="nothing was built"):
        check_finished(FakeResult("DONE"), pipeline_options(args))


def test_a_failing_input_file_stops_the_build_with_one_line(tmp_path):
    manifest = dataset(tmp_path / "data", 4)
    (tmp_path / "parts").mkdir()
    shutil.copy(manifest, tmp_path / "parts" / "a.csv")
    (tmp_path / "parts" / "b.csv").write_text("id,picture\nx,y.png\n")
    with pytest.raises(ValueError, match="b.csv: required column 'image' is missing"):
        run(config(tmp_path / "parts", tmp_path / "out"), show_progress=False)
    assert not (tmp_path / "out" / "run.json").exists()


def test_a_build_that_failed_before_any_shard_does_not_block_a_corrected_config(
    tmp_path, monkeypatch
):
    """A worker that fails at the first sample leaves no plan.json, so the next command with
    another config runs without --overwrite; a failure after shards were kept still guards."""
    from labelmill.extras import MissingExtraError
    from labelmill.pipelines import shard_stage

    manifest = dataset(tmp_path / "data", 8)
    out = tmp_path / "out"

    def broken(*_args, **_kwargs):
        raise MissingExtraError("pydicom", "images", "this test")

    with monkeypatch.context() as patch:
        patch.setattr(shard_stage, "load_sample", broken)
        with pytest.raises(Exception, match="pydicom"):
            run(config(manifest, out), show_progress=False)
    assert not (out / "_work" / "plan.json").exists()
    other = replace(config(manifest, out), shard_max_samples=3)
    assert run(other, show_progress=False)["counts"]["written"] == 8

    Image.fromarray(np.full((16, 16), 7, dtype=np.uint8)).save(tmp_path / "data/images/7.png")
    with monkeypatch.context() as patch:  # the kept shards are a build to resume
        patch.setattr(shard_stage, "load_sample", broken)
        with pytest.raises(Exception, match="pydicom"):
            run(other, show_progress=False)
    with pytest.raises(ResumeError, match="--overwrite"):
        run(config(manifest, out), show_progress=False)
