"""The front door: version, help, strict flags with suggestions, errors before any work."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest


def test_version(labelmill) -> None:
    code, output = labelmill("--version")
    assert (code, output) == (0, f"labelmill {metadata.version('labelmill')}\n")


@pytest.mark.parametrize("args", [["-h"], ["build", "-h"], ["build", "-i", "x", "-o", "y", "-h"]])
def test_short_help_is_labelmills_help(labelmill, args: list[str]) -> None:
    code, output = labelmill(*args)
    assert code == 0
    assert "Usage: labelmill" in output and "PipelineOptions" not in output
    if "build" in args:
        assert "--shard-max-samp" in output and "--report-ontology" in output


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--shard-max-sample", "3"], "no such option: --shard-max-sample; did you mean "
         "--shard-max-samples?"),
        (["--ontology", "chexpert"], "no such option: --ontology; did you mean "
         "--report-ontology (or --harmonize)?"),
        (["--report_ontology", "chexpert"], "no such option: --report_ontology; did you mean "
         "--report-ontology?"),
        (["--workers", "2"], "no such option: --workers; did you mean --direct_num_workers N "
         "--direct_running_mode multi_processing?"),
        (["--max_image_side", "8"], "no such option: --max_image_side; did you mean "
         "--max-image-side?"),
        (["--direct_num_worker", "2"], "no such option: --direct_num_worker; did you mean "
         "--direct_num_workers?"),
        (["stray"], "unexpected argument 'stray'"),
        (["--direct_num_workers", "two"], "argument --direct_num_workers: invalid int value"),
    ],
)
def test_unknown_flags_are_errors_with_a_suggestion(
    labelmill, small_manifest, tmp_path: Path, flag: list[str], message: str
) -> None:
    manifest = small_manifest(tmp_path / "in")
    code, output = labelmill("build", "-i", manifest, "-o", tmp_path / "out", *flag)
    assert code == 2
    assert output.splitlines() == [f"error: {message}"] or message in output
    assert output.startswith("error: ") and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--report-ontology", "chexpret"],
         "error: reports: ontology 'chexpret' is neither a built-in "
         "(chestxray14, chexpert, padchest) nor a file"),
        (["--harmonize", "chestxray14", "--aggregate", "vote"],
         "error: aggregate: method 'vote' unknown; valid: majority, dawid-skene"),
        (["--image-model", "resnet50"],
         "error: image_model: bad model spec 'resnet50'; use imagenet-demo, hf:ID_OR_FOLDER, "
         "timm:NAME@WEIGHTS or arch:NAME@WEIGHTS"),
        (["--image-model", "arch:efficientnet_lite0@/nonexistent.safetensors"],
         "error: image_model: weights file not found: /nonexistent.safetensors"),
        (["--image-model", "imagenet-demo", "--device", "tpu"],
         "error: device: 'tpu' is not one of auto, cpu, cuda, cuda:N"),
        (["--image-model", "imagenet-demo", "--map-size", "0"],
         "error: --map-size: expected a positive integer or native, got '0'"),
        (["--uncertain", "zeros"],
         "error: --uncertain sets the final labels' policy: add --aggregate"),
        (["--aggregate", "majority", "--uncertain", "maybe"],
         "error: --uncertain: expected one of keep, zeros, ones, got 'maybe'"),
        (["--harmonize", "chestxray14", "--llm", "gpt"],
         "error: harmonize: --llm must be none, local or an http(s) URL, not 'gpt'"),
    ],
)
def test_labeler_options_fail_before_any_work(
    labelmill, small_manifest, tmp_path: Path, flags: list[str], message: str
) -> None:
    manifest = small_manifest(tmp_path / "in")
    out = tmp_path / "out"
    code, output = labelmill("build", "-i", manifest, "-o", out, *flags)
    assert (code, output.strip()) == (2, message)
    assert not out.exists()


def test_topk_zero_is_refused_by_the_flag(labelmill, small_manifest, tmp_path: Path) -> None:
    manifest = small_manifest(tmp_path / "in")
    code, output = labelmill(
        "build", "-i", manifest, "-o", tmp_path / "out", "--image-model", "imagenet-demo",
        "--topk", "0",
    )
    assert code == 2
    assert "Invalid value for '--topk': Input should be greater than or equal to 1" in output


def test_cuda_without_a_gpu_is_refused_on_a_local_runner(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    manifest = small_manifest(tmp_path / "in")
    code, output = labelmill(
        "build", "-i", manifest, "-o", tmp_path / "out", "--image-model", "imagenet-demo",
        "--device", "cuda",
    )
    assert (code, output.strip()) == (
        2,
        "error: device: cuda asked for, but this machine has 0 CUDA device(s); "
        "use --device cpu or auto",
    )
