"""The README's training snippets, run against real builds (JPEG and PNG) and compared with
their manifests; and a DataLoader with two workers over a default build of mixed-size images."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelmill.manifests.built import read_manifest, read_rejects

README = Path(__file__).resolve().parents[1] / "README.md"


class Trap:
    """Unpickling this creates the file at `path`: proof that something unpickled it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


SIZES = [(64, 48), (48, 64), (96, 32), (40, 40), (120, 56)]


def snippet(name: str, build: Path) -> dict:
    """Run the README block marked `# snippet: NAME` with `build` pointing at a real build."""
    blocks = re.findall(r"```python\n(# snippet: (\w+)\n.*?)```", README.read_text(), re.S)
    code = next(code for code, tag in blocks if tag == name)
    assert 'build = "demo-out"' in code
    scope: dict = {"__name__": "readme_snippet"}
    exec(code.replace('build = "demo-out"', f"build = {str(build)!r}"), scope)  # noqa: S102
    return scope


@pytest.fixture(scope="module")
def jpeg_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 JPEGs of five sizes with reports, built with the defaults plus an image model and a
    report ontology: the build a new user makes first."""
    from labelmill.pipelines.build import run
    from labelmill.schemas.config import BuildConfig, LabelerSpec

    folder = tmp_path_factory.mktemp("jpeg_inputs")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        w, h = SIZES[i % len(SIZES)]
        pixels = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i}.jpg", quality=90)
        report = "Small right pleural effusion." if i % 2 else "No effusion. Heart size normal."
        rows.append({"id": f"case{i}", "image": f"img{i}.jpg", "report": report})
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "image", "report"])
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path_factory.mktemp("jpeg_build")
    labelers = (
        LabelerSpec("manifest_labels"),
        LabelerSpec("reports", {"ontology": "chestxray14"}),
        LabelerSpec("image_model", {"model": "imagenet-demo", "device": "cpu"}),
    )
    run(BuildConfig(input=str(manifest), output=str(out), labelers=labelers), show_progress=False)
    return out


@pytest.fixture(scope="module", params=["jpeg", "png"])
def build(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("jpeg_build" if request.param == "jpeg" else "sample_build")


def manifest_of(build: Path) -> dict[str, dict]:
    return {row["key"]: row for row in read_manifest(str(build))}


def test_webdataset_snippet(build: Path) -> None:
    manifest = manifest_of(build)
    scope = snippet("webdataset", build)
    seen = {}
    for key, image, info, _report in scope["dataset"]:
        seen[key] = (image.size, info["id"])
    assert seen == {k: ((m["width"], m["height"]), m["id"]) for k, m in manifest.items()}
    assert isinstance(scope["records"], list) and scope["records"][0]["source"] == "manifest"


def test_wids_snippet(build: Path) -> None:
    manifest = manifest_of(build)
    dataset = snippet("wids", build)["dataset"]
    assert len(dataset) == len(manifest)
    for i in range(len(dataset)):
        sample = dataset[i]
        row = manifest[sample["__key__"]]
        assert sample["json"]["id"] == row["id"]
        assert sample["image"].size == (row["width"], row["height"])


def test_datasets_snippet(build: Path) -> None:
    manifest = manifest_of(build)
    ext = json.loads((build / "run.json").read_text())["image_ext"]
    dataset = snippet("datasets", build)["dataset"]
    assert dataset.num_rows == len(manifest)
    for sample in dataset:
        row = manifest[sample["__key__"]]
        assert (
            sample["json"]["id"] == row["id"]
            and sample["json"]["image"]["sha256"] == row["image_sha256"]
        )
        assert sample[ext].size == (row["width"], row["height"])


def test_dataloader_snippet_batches_maps_and_targets(jpeg_build: Path) -> None:
    classes = json.loads((jpeg_build / "classes.json").read_text())["classes"]
    assert len(list((jpeg_build / "shards").glob("*.tar"))) == 3  # 8 + 16 + 16 samples
    scope = snippet("dataloader", jpeg_build)
    batches = [tuple(t.shape for t in batch) for batch in scope["loader"]]
    assert len(batches) == 10  # 40 samples in batches of 4, over 2 workers
    assert set(batches) == {((4, 5, 15, 15), (4, 5, 15, 15), (4, len(classes)))}
    targets = {
        float(v) for batch in scope["loader"] for v in batch[2][:, classes.index("Effusion")]
    }
    assert targets == {0.0, 1.0}


def test_snippets_never_unpickle(jpeg_build: Path, tmp_path: Path) -> None:
    """A tampered shard whose first sample carries a pickle member: the snippets skip it."""
    import io
    import pickle
    import shutil
    import tarfile

    tampered, flag = tmp_path / "tampered", tmp_path / "unpickled"
    shutil.copytree(jpeg_build, tampered)
    shard = sorted((tampered / "shards").glob("*.tar"))[0]
    with tarfile.open(shard) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    key = members[0][0].name.split(".")[0]
    payload = pickle.dumps(Trap(str(flag)))
    with tarfile.open(shard, "w") as tar:
        for i, (member, data) in enumerate(members):
            tar.addfile(member, io.BytesIO(data))
            if i == 0:
                info = tarfile.TarInfo(f"{key}.pyd")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    keys = [k for k, *_ in snippet("webdataset", tampered)["dataset"]]
    assert len(keys) == 40 and not flag.exists()


def test_manifest_snippet(sample_build: Path) -> None:
    scope = snippet("manifest", sample_build)
    assert scope["manifest"].to_pylist() == list(manifest_of(sample_build).values())
    assert scope["rejects"].to_pylist() == read_rejects(str(sample_build))
