import shutil

from typer.testing import CliRunner

from labelmill.pipelines.cli import app
from labelmill.pipelines.verify import verify


def test_verify_passes_on_a_clean_build(sample_build):
    assert verify(str(sample_build)) == []
    result = CliRunner().invoke(app, ["verify", str(sample_build)])
    assert result.exit_code == 0 and "check out" in result.output


def test_verify_catches_a_flipped_byte_and_lists_every_problem(sample_build, tmp_path):
    out = tmp_path / "broken"
    shutil.copytree(sample_build, out)
    shard = out / "shards" / "shard-000001.tar"
    data = bytearray(shard.read_bytes())
    data[700] ^= 0x01  # inside the first member's data
    shard.write_bytes(bytes(data))
    (out / "shards" / "shard-000003.tar").unlink()
    (out / "shards" / "stray.tar").write_bytes(b"")
    problems = verify(str(out))
    assert any("shard-000001.tar: sha256 differs" in p for p in problems)
    assert any("shard-000003.tar: missing" in p for p in problems)
    assert any("stray.tar" in p for p in problems)
    result = CliRunner().invoke(app, ["verify", str(out)])
    assert result.exit_code == 1 and f"{len(problems)} problem(s)" in result.output


def test_verify_on_a_folder_that_is_not_a_build(tmp_path):
    assert "not a complete build" in verify(str(tmp_path))[0]


def test_inspect_prints_samples(sample_build):
    result = CliRunner().invoke(app, ["inspect", str(sample_build), "--n", "2"])
    assert result.exit_code == 0
    assert "study-000" in result.output and "study-001" in result.output
    assert "study-002" not in result.output
    one = CliRunner().invoke(app, ["inspect", str(sample_build / "shards" / "shard-000003.tar")])
    assert one.exit_code == 0 and "photo_chelsea" in one.output


def test_build_command_passes_beam_options_and_prints_the_summary(tmp_path):
    from pathlib import Path

    manifest = Path(__file__).resolve().parents[2] / "sample_data" / "manifest.csv"
    args = ["build", "--input", str(manifest), "--output", str(tmp_path / "o"), "--quiet"]
    result = CliRunner().invoke(app, [*args, "--direct_num_workers", "1"])
    assert result.exit_code == 0, result.output
    assert "written + rejected == read" in result.output and "yes" in result.output
    bad = CliRunner().invoke(
        app,
        [
            "build",
            "--input",
            str(manifest),
            "--output",
            str(tmp_path / "p"),
            "--image-format",
            "gif",
        ],
    )
    assert bad.exit_code == 2 and "image_format: expected one of keep, png, jpeg" in bad.output
