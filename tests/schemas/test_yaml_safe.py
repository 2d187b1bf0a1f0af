"""Strict YAML: aliases, repeated keys, oversized and non-UTF-8 files are refused by line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labelmill.schemas.yaml_safe import MAX_YAML_BYTES, YamlError, load_yaml


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "c.yaml"
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def test_plain_yaml_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nb: [x, {c: 2}]\nanchor: &keep 3\n")
    assert load_yaml(path) == {"a": 1, "b": ["x", {"c": 2}], "anchor": 3}


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    path = write(tmp_path, "\n".join(lines))
    started = time.perf_counter()
    with pytest.raises(YamlError, match=r"c\.yaml: line 2: YAML aliases \(\*a0\) are not allowed"):
        load_yaml(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb:\n  x: 1\n  x: 2\n", "line 4: duplicate key 'x'"),
        ("a: [1, 2\n", "not valid YAML"),
        ("? [a, b]\n: 1\n", "line 1: a key must be a scalar"),
        ("a: !!python/object:os.system ls\n", "not valid YAML"),
    ],
)
def test_refused_documents_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(write(tmp_path, text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_size_cap_and_encoding(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="larger than 1,000,000 bytes"):
        load_yaml(write(tmp_path, b"#" * (MAX_YAML_BYTES + 1)))
    with pytest.raises(YamlError, match="not UTF-8"):
        load_yaml(write(tmp_path, b"a: \xff\n"))
    with pytest.raises(YamlError, match="cannot read"):
        load_yaml(tmp_path / "absent.yaml")
