"""The README's training snippets, run against a real build and compared with its manifest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labelmill.manifests.built import read_manifest, read_rejects

README = Path(__file__).resolve().parents[1] / "README.md"


def snippet(name: str, build: Path) -> dict:
    """Run the README block marked `# snippet: NAME` with `build` pointing at a real build."""
    blocks = re.findall(r"```python\n(# snippet: (\w+)\n.*?)```", README.read_text(), re.S)
    code = next(code for code, tag in blocks if tag == name)
    assert 'build = "demo-out"' in code
    scope: dict = {}
    exec(code.replace('build = "demo-out"', f"build = {str(build)!r}"), scope)  # noqa: S102
    return scope


@pytest.fixture(scope="module")
def manifest(sample_build):
    return {row["key"]: row for row in read_manifest(str(sample_build))}


def test_webdataset_snippet(sample_build, manifest):
    scope = snippet("webdataset", sample_build)
    seen = {}
    for key, image, info, _report in scope["dataset"]:
        seen[key] = (image.size, info["id"])
    assert seen == {k: ((m["width"], m["height"]), m["id"]) for k, m in manifest.items()}
    assert isinstance(scope["records"], list) and scope["records"][0]["source"] == "manifest"


def test_wids_snippet(sample_build, manifest):
    dataset = snippet("wids", sample_build)["dataset"]
    assert len(dataset) == len(manifest)
    for i in range(len(dataset)):
        sample = dataset[i]
        row = manifest[sample["__key__"]]
        assert sample[".json"]["id"] == row["id"]
        assert sample[".png"].size == (row["width"], row["height"])


def test_datasets_snippet(sample_build, manifest):
    dataset = snippet("datasets", sample_build)["dataset"]
    assert dataset.num_rows == len(manifest)
    for sample in dataset:
        row = manifest[sample["__key__"]]
        assert (
            sample["json"]["id"] == row["id"]
            and sample["json"]["image"]["sha256"] == row["image_sha256"]
        )
        assert sample["png"].size == (row["width"], row["height"])


def test_manifest_snippet(sample_build, manifest):
    scope = snippet("manifest", sample_build)
    assert scope["manifest"].to_pylist() == list(manifest.values())
    assert scope["rejects"].to_pylist() == read_rejects(str(sample_build))
