"""Build config values: type and range per option, the default shard sizes, YAML paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill.schemas.config import BuildConfig, ConfigError, load_config


def make(**options) -> BuildConfig:
    return BuildConfig(input="m.csv", output="out", **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"shard_max_samples": True}, "shard_max_samples: expected an integer >= 1 or null, "
         "got True (bool)"),
        ({"shard_max_bytes": 0}, "shard_max_bytes: expected an integer >= 1 or null, got 0 (int)"),
        ({"max_image_side": 4}, "max_image_side: expected an integer from 8 to 1000000 or null"),
        ({"batch_size": "32"}, "batch_size: expected an integer from 1 to 65536, got '32' (str)"),
        ({"load_threads": 0}, "load_threads: expected an integer from 1 to 256, got 0 (int)"),
        ({"fetch_threads": 2.5}, "fetch_threads: expected an integer from 1 to 1024, got 2.5"),
        ({"manifest_encoding": "base64"}, "manifest_encoding: expected a text encoding"),
        ({"manifest_encoding": "klingon"}, "manifest_encoding: expected a text encoding"),
        ({"name": "a/b"}, "name: expected 1 to 64 letters, digits, '-' or '_', got 'a/b'"),
        ({"aggregate": ["majority"]}, "aggregate: expected a mapping of option: value, or null"),
        ({"columns": {"study": "x"}}, "columns.study: expected one of id, image, report"),
        ({"columns": {"id": ""}}, "columns.id: expected a non-empty string, got ''"),
        ({"sep": ";;"}, "sep: expected one character such as ',', ';' or '\\t', or null"),
    ],
)
def test_each_option_names_what_it_expects(options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make(**options)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_good_values_pass() -> None:
    config = make(manifest_encoding="latin-1", jpeg_quality=100, sep="\t", columns={"id": "ID"})
    assert config.columns == {"id": "ID"} and config.sep == "\t"


def test_default_shards_grow_to_1000_and_an_explicit_size_is_kept() -> None:
    sizes = [make().shard_limit(i) for i in range(10)]
    assert sizes == [8, 16, 32, 64, 128, 256, 512, 1000, 1000, 1000]
    assert make().shard_limit(10**9) == 1000
    assert {make(shard_max_samples=50).shard_limit(i) for i in range(5)} == {50}


def test_yaml_paths_resolve_against_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    config = folder / "build.yaml"
    config.write_text(
        "input: data/m.csv\noutput: s3://bucket/out\nlabelers:\n"
        "  - name: reports\n    ontology: onto/mine.yaml\n"
        "  - name: image_model\n    model: imagenet-demo\n"
        "aggregate:\n  ontology: chexpert\n"
    )
    loaded = load_config(str(config), output=None)
    assert loaded.input == str(folder / "data" / "m.csv")
    assert loaded.output == "s3://bucket/out"
    assert loaded.labelers[0].options["ontology"] == str(folder / "onto" / "mine.yaml")
    assert loaded.aggregate == {"ontology": "chexpert"}  # a built-in name stays a name
    assert load_config(str(config), input="flag.csv").input == "flag.csv"  # flags: as given


def test_unknown_yaml_option(tmp_path: Path) -> None:
    config = tmp_path / "b.yaml"
    config.write_text("input: a\noutput: b\nshard_size: 3\n")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['shard_size'\]"):
        load_config(str(config))


def test_the_demo_config_points_into_sample_data() -> None:
    demo = Path(__file__).resolve().parents[2] / "sample_data" / "build.yaml"
    config = load_config(str(demo))
    assert Path(config.input) == demo.parent / "demo.csv" and Path(config.input).is_file()
    assert Path(config.output).resolve() == demo.parents[1] / "demo-out"
