"""`labelmill build` end to end through the CLI: config values, YAML, columns, the messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labelmill.manifests.built import read_manifest


@pytest.mark.parametrize(
    ("yaml_line", "message"),
    [
        ("shard_max_samples: 'abc'", "shard_max_samples: expected an integer >= 1 or null, "
         "got 'abc' (str)"),
        ("shard_max_samples: 1.5", "shard_max_samples: expected an integer >= 1 or null, "
         "got 1.5 (float)"),
        ("name: 123", "name: expected 1 to 64 letters, digits, '-' or '_', got 123 (int)"),
        ("manifest_encoding: rot13", "manifest_encoding: expected a text encoding such as "
         "utf-8, latin-1 or cp1252, got 'rot13' (str)"),
        ("jpeg_quality: 1000", "jpeg_quality: expected an integer from 1 to 100, "
         "got 1000 (int)"),
        ("max_pixels: -1", "max_pixels: expected an integer >= 1, got -1 (int)"),
        ("image_format: gif", "image_format: expected one of keep, png, jpeg, got 'gif' (str)"),
    ],
)
def test_config_values_of_the_wrong_type(
    labelmill, small_manifest, tmp_path: Path, yaml_line: str, message: str
) -> None:
    small_manifest(tmp_path)
    config = tmp_path / "build.yaml"
    config.write_text(f"input: manifest.csv\noutput: out\n{yaml_line}\n")
    code, output = labelmill("build", "--config", config)
    assert (code, output) == (2, f"error: {message}\n")
    assert not (tmp_path / "out").exists()


def test_yaml_alias_bomb_is_refused_at_once(labelmill, tmp_path: Path) -> None:
    lines = ["input: m.csv", "output: out", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20)]
    lines += ["labelers:", "  - name: reports", "    ontology: *a19"]
    config = tmp_path / "bomb.yaml"
    config.write_text("\n".join(lines) + "\n")
    code, output = labelmill("build", "--config", config)
    assert (code, output) == (
        2,
        f"error: {config}: line 4: YAML aliases (*a0) are not allowed; write the value out\n",
    )


def test_duplicate_yaml_keys_are_refused(labelmill, tmp_path: Path) -> None:
    config = tmp_path / "build.yaml"
    config.write_text("input: a.csv\noutput: out\nshard_max_samples: 5\nshard_max_samples: 50\n")
    code, output = labelmill("build", "--config", config)
    assert (code, output) == (2, f"error: {config}: line 4: duplicate key 'shard_max_samples'\n")


def test_failed_start_leaves_nothing_that_blocks_the_corrected_run(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    manifest, out = small_manifest(tmp_path / "in"), tmp_path / "out"
    code, _ = labelmill("build", "-i", manifest, "-o", out, "--report-ontology", "chexpret")
    assert code == 2 and not out.exists()
    code, output = labelmill("build", "-i", manifest, "-o", out, "--report-ontology", "chexpert",
                             "--quiet")
    assert code == 0, output
    assert json.loads((out / "run.json").read_text())["counts"]["written"] == 3


def test_yaml_paths_resolve_against_the_yaml_folder(
    labelmill, small_manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_manifest(tmp_path / "project")
    config = tmp_path / "project" / "build.yaml"
    config.write_text("input: manifest.csv\noutput: out\n")
    monkeypatch.chdir(tmp_path)
    code, output = labelmill("build", "--config", config, "--quiet")
    assert code == 0, output
    assert (tmp_path / "project" / "out" / "run.json").exists()
    assert not (tmp_path / "out").exists()


def test_closing_lines_count_in_words_and_give_the_shard_pattern(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    manifest, out = small_manifest(tmp_path / "in", n=1), tmp_path / "one"
    code, output = labelmill("build", "-i", manifest, "-o", out, "--quiet")
    assert code == 0, output
    assert "wrote 1 sample in 1 shard, rejected 0 inputs (see rejects/)" in output
    assert f"shards: {out}/shards/shard-000000.tar" in output
    manifest, out = small_manifest(tmp_path / "in40", n=30), tmp_path / "many"
    code, output = labelmill("build", "-i", manifest, "-o", out, "--quiet")
    assert "wrote 30 samples in 3 shards, rejected 0 inputs" in output
    assert f"shards: {out}/shards/shard-{{000000..000002}}.tar" in output
    wall = float(re.search(r"wall time\s*│?\s*([\d.]+) s", output).group(1))
    assert wall > 0


def test_logs_are_quiet_by_default_and_verbose_on_request(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    manifest = small_manifest(tmp_path / "in", n=2)
    code, output = labelmill("build", "-i", manifest, "-o", tmp_path / "a", "--quiet")
    assert code == 0 and "INFO" not in output and "apitools" not in output
    code, output = labelmill("build", "-i", manifest, "-o", tmp_path / "b", "--quiet", "--verbose")
    assert code == 0 and "INFO apache_beam" in output


def test_unmapped_strings_are_listed_at_the_end(labelmill, small_manifest, tmp_path: Path) -> None:
    manifest = small_manifest(tmp_path / "in", n=2)
    text = manifest.read_text().replace("effusion|PTX", "effusion|PTX|zebra stripes")
    manifest.write_text(text)
    code, output = labelmill(
        "build", "-i", manifest, "-o", tmp_path / "out", "--harmonize", "chestxray14", "--quiet"
    )
    assert code == 0, output
    lines = output.splitlines()
    start = lines.index("unmapped label strings (1), kept as evidence only:")
    assert lines[start + 1].startswith("  'zebra stripes'")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_columns_by_name_case_insensitive_and_separator_detected(
    labelmill, small_manifest, tmp_path: Path, sep: str
) -> None:
    header = ("Study ID", "IMAGE", "Findings", "Labels", "Age")
    manifest = small_manifest(tmp_path / "in", sep=sep, header=header)
    out = tmp_path / "out"
    code, output = labelmill(
        "build", "-i", manifest, "-o", out, "--id-col", "study id", "--report-col", "Findings",
        "--quiet",
    )
    assert code == 0, output
    rows = read_manifest(str(out))
    assert [r["id"] for r in rows] == ["s0", "s1", "s2"]
    assert all(r["report_present"] for r in rows)


def test_separator_by_name(labelmill, small_manifest, tmp_path: Path) -> None:
    manifest = small_manifest(tmp_path / "in", sep="\t")
    out = tmp_path / "o"
    code, output = labelmill("build", "-i", manifest, "-o", out, "--sep", "\\t", "--quiet")
    assert code == 0, output
    assert json.loads((tmp_path / "o" / "run.json").read_text())["config"]["sep"] == "\t"


def test_explicit_separator_and_a_missing_named_column(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    manifest = small_manifest(tmp_path / "in", sep=";")
    code, output = labelmill(
        "build", "-i", manifest, "-o", tmp_path / "out", "--sep", ";", "--id-col", "study",
        "--quiet",
    )
    assert code == 2
    assert output.startswith(f"error: {manifest}: required column 'id' is missing")


def built(labelmill, manifest: Path, out: Path, *flags: str) -> dict:
    """Build quietly with `flags`; the run.json of the build, which must succeed."""
    code, output = labelmill("build", "-i", manifest, "-o", out, *flags, "--quiet")
    assert code == 0, output
    return json.loads((out / "run.json").read_text())


def test_uncertain_policy_reaches_the_aggregation(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    manifest = small_manifest(tmp_path / "in", n=2)
    text = manifest.read_text().replace("Small left pleural effusion.", "Possible edema.")
    manifest.write_text(text)
    out = tmp_path / "out"
    run_json = built(
        labelmill, manifest, out, "--report-ontology", "chestxray14",
        "--aggregate", "majority", "--uncertain", "ones",
    )
    assert run_json["config"]["aggregate"]["uncertain"] == "one"
    rows = read_manifest(str(out))
    assert {r["target"]["Edema"] for r in rows} == {1.0}  # U-Ones: "possible edema" counts


@pytest.mark.parametrize(
    ("labeler", "message"),
    [
        ("  - name: image_model\n    topk: 0\n",
         "image_model: topk: expected an integer >= 1, got 0"),
        ("  - name: image_model\n    topk2: 3\n", "image_model: unknown option 'topk2'"),
        ("  - name: report\n", "labelers: unknown labeler 'report'; known: image_model, "
         "manifest_labels, reports"),
        ("  - name: reports\n    ontology: missing.yaml\n", "reports: ontology '"),
        ("  - name: image_model\n    ontology: chestxray15\n",
         "image_model: ontology 'chestxray15' is neither a built-in"),
    ],
)
def test_labeler_options_in_yaml_are_checked_before_work(
    labelmill, small_manifest, tmp_path: Path, labeler: str, message: str
) -> None:
    small_manifest(tmp_path)
    config = tmp_path / "build.yaml"
    config.write_text(f"input: manifest.csv\noutput: out\nlabelers:\n{labeler}")
    code, output = labelmill("build", "--config", config)
    assert code == 2 and output.startswith(f"error: {message}") and output.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(300)
def test_worker_processes_are_quiet_too(small_manifest, tmp_path: Path) -> None:
    """Worker processes log at Beam's default INFO, and libraries read that level (the
    embedding model's progress bars): stderr of a two-process harmonized build stays empty."""
    manifest = small_manifest(tmp_path / "in", n=6)
    words = "fluid collection in the pleural space|zebra stripes"  # reach the embedding step
    manifest.write_text(manifest.read_text().replace("effusion|PTX", words))
    command = [str(Path(sys.executable).parent / "labelmill"), "build", "-i", str(manifest)]
    command += ["-o", str(tmp_path / "out"), "--quiet", "--harmonize", "chestxray14"]
    command += ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""
    assert "wrote 6 samples" in done.stdout


def test_image_ontology_maps_imagenet_classes_to_nothing_on_a_chest_ontology(
    labelmill, small_manifest, tmp_path: Path
) -> None:
    """ImageNet's 1,000 class names onto chestxray14: no confident wrong answer, and the final
    labels are the image ontology's."""
    manifest = small_manifest(tmp_path / "in", n=2)
    out = tmp_path / "out"
    run_json = built(
        labelmill, manifest, out, "--image-model", "imagenet-demo",
        "--image-ontology", "chestxray14", "--aggregate", "majority",
    )
    image = next(lab for lab in run_json["labelers"] if lab["source"].startswith("image/"))
    assert image["class_map"] == {} and image["unmapped_classes"] == 1000
    assert run_json["config"]["aggregate"]["ontology"] == "chestxray14"
    for row in read_manifest(str(out)):
        assert not dict(row["labels"]).get("image/imagenet-demo")


def test_image_ontology_without_a_model_is_refused(labelmill, small_manifest, tmp_path) -> None:
    manifest = small_manifest(tmp_path / "in", n=2)
    code, output = labelmill(
        "build", "-i", manifest, "-o", tmp_path / "out", "--image-ontology", "chestxray14"
    )
    assert code == 2 and output.startswith("error: --image-ontology maps an image model")
    assert not (tmp_path / "out").exists()
