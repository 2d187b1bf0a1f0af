"""The build with the real labelers plugged in: report mining, harmonized manifest labels, and
both aggregators (majority per sample; Dawid-Skene in its own pass over all votes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labelmill.manifests.built import read_manifest
from labelmill.pipelines.build import run
from labelmill.pipelines.shard_reader import iter_samples
from labelmill.pipelines.verify import verify
from labelmill.schemas.config import BuildConfig, LabelerSpec
from labelmill.schemas.sample import decode_sample_json

SAMPLE_MANIFEST = Path(__file__).resolve().parents[2] / "sample_data" / "manifest.csv"


def config(out: Path, method: str) -> BuildConfig:
    return BuildConfig(
        input=str(SAMPLE_MANIFEST),
        output=str(out),
        shard_max_samples=12,
        labelers=(
            LabelerSpec("manifest_labels"),
            LabelerSpec("reports", {"ontology": "chestxray14"}),
        ),
        harmonize={"ontology": "chestxray14", "llm": "none"},
        aggregate={"method": method, "uncertain": "ignore"},
    )


def documents(out: Path) -> dict[str, dict]:
    docs = {}
    for shard in sorted((out / "shards").glob("*.tar")):
        for _key, members in iter_samples(str(shard)):
            doc = decode_sample_json(members["json"])
            docs[doc["id"]] = doc
    return docs


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    import os

    path = tmp_path_factory.mktemp("cache")
    os.environ["LABELMILL_CACHE"] = str(path)
    yield path
    del os.environ["LABELMILL_CACHE"]


@pytest.fixture(scope="module")
def majority_build(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("majority")
    run(config(out, "majority"), show_progress=False)
    return out


@pytest.fixture(scope="module")
def ds_build(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("ds")
    run(config(out, "dawid-skene"), show_progress=False)
    return out


def test_reports_harmonized_labels_and_majority_final(majority_build):
    docs = documents(majority_build)
    ptx = {r["source"]: r for r in docs["study-004"]["records"]}
    assert ptx["manifest"]["labels"] == {"Pneumothorax": 1}
    assert ptx["manifest"]["evidence"] == [
        {"label": "Pneumothorax", "raw": "PTX", "status": "mapped"}
    ]
    assert ptx["reports/chestxray14"]["labels"]["Pneumothorax"] == 1
    evidence = ptx["reports/chestxray14"]["evidence"][0]
    assert {"sentence", "start", "end", "section", "status", "trigger"} <= set(evidence)
    final = docs["study-004"]["final"]
    assert final["source"] == "aggregate/majority" and final["labels"]["Pneumothorax"] == 1
    normal = docs["study-000"]
    assert normal["final"]["labels"].get("Cardiomegaly") == 0  # "heart size is normal"
    rows = {r["id"]: r for r in read_manifest(str(majority_build))}
    labels = {source: dict(values) for source, values in rows["study-004"]["labels"]}
    assert labels["manifest"] == {"Pneumothorax": 1}  # a typed map, no JSON to parse
    assert json.loads(rows["study-004"]["final"])["labels"]["Pneumothorax"] == 1
    assert rows["study-004"]["target"]["Pneumothorax"] == final["scores"]["Pneumothorax"]
    run_json = json.loads((majority_build / "run.json").read_text())
    decisions = {d["raw"]: d for d in run_json["harmonize"]["decisions"]}
    assert decisions["PTX"]["label"] == "Pneumothorax" and decisions["PTX"]["method"] == "lexical"
    assert decisions["pericardial effusion"]["label"] is None  # an exclusion holds
    assert {lab["source"] for lab in run_json["labelers"]} >= {"manifest", "reports/chestxray14"}


def test_dawid_skene_pass_writes_final_records_and_stays_consistent(ds_build, majority_build):
    docs = documents(ds_build)
    assert all(d["final"]["source"] == "aggregate/dawid-skene" for d in docs.values())
    assert verify(str(ds_build)) == []  # rewritten shards match run.json and the manifest
    run_json = json.loads((ds_build / "run.json").read_text())
    assert "Pneumothorax" in run_json["label_model"]
    rows = read_manifest(str(ds_build))
    assert all(json.loads(r["final"])["source"] == "aggregate/dawid-skene" for r in rows)
    classes = json.loads((ds_build / "classes.json").read_text())["classes"]
    for row in rows:  # the target follows the label model's final probabilities
        scores = json.loads(row["final"])["scores"]
        assert [row["target"][c] for c in classes] == pytest.approx(
            [scores.get(c, 0.0) for c in classes], abs=1e-6
        )
    # the records themselves are the same as without the label model
    other = documents(majority_build)
    assert all(docs[i]["records"] == other[i]["records"] for i in docs)


def test_dawid_skene_build_resumes_to_the_same_bytes(ds_build, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(ds_build, out)
    (out / "shards" / "shard-000001.tar").unlink()
    summary = run(config(out, "dawid-skene"), show_progress=False)
    assert summary["shards_rebuilt"] == 1
    for shard in sorted((ds_build / "shards").glob("*.tar")):
        assert (out / "shards" / shard.name).read_bytes() == shard.read_bytes()


def test_image_classes_and_other_ontologies_vote_on_the_build_ontology(tmp_path, cache):
    """An image model's class names go through the harmonizer once per build, and a report
    miner on chexpert votes on chestxray14's labels through the crosswalk."""
    from labelmill.testing.models import save_tiny_classifier

    classes = ["pleural effusion", "golden retriever", "hydropneumothorax"]
    model = f"hf:{save_tiny_classifier(tmp_path / 'chest', classes)}"
    out = tmp_path / "out"
    cfg = BuildConfig(
        input=str(SAMPLE_MANIFEST),
        output=str(out),
        shard_max_samples=12,
        labelers=(
            LabelerSpec("reports", {"ontology": "chexpert"}),
            LabelerSpec(
                "image_model",
                {"model": model, "topk": 3, "threshold": 0.0, "ontology": "chestxray14"},
            ),
        ),
        aggregate={"method": "majority", "ontology": "chestxray14"},
    )
    run(cfg, show_progress=False)
    docs = documents(out)
    for doc in docs.values():
        image = next(r for r in doc["records"] if r["source"].startswith("image/"))
        assert image["labels"] == {"Effusion": 1, "Pneumothorax": 1}
        assert doc["final"]["meta"]["votes"]["Effusion"][image["source"]] == 1
    reports = {r["source"]: r for r in docs["study-004"]["records"]}["reports/chexpert"]
    assert reports["labels"]["Pneumothorax"] == 1
    effusions = [
        d
        for d in docs.values()
        if any(
            r["source"] == "reports/chexpert" and r["labels"].get("Pleural Effusion") == 1
            for r in d["records"]
        )
    ]
    assert effusions and all(
        d["final"]["meta"]["votes"]["Effusion"]["reports/chexpert"] == 1 for d in effusions
    )
    run_json = json.loads((out / "run.json").read_text())
    described = next(lab for lab in run_json["labelers"] if lab["source"].startswith("image/"))
    assert described["class_map"] == {
        "pleural effusion": ["Effusion"],
        "hydropneumothorax": ["Effusion", "Pneumothorax"],
    }
    ((key, table),) = run_json["harmonize"]["class_maps"].items()
    assert key == f"chestxray14 <- {model}"
    assert {d["raw"]: d["label"] for d in table["decisions"]}["golden retriever"] is None
    assert verify(str(out)) == []
    from labelmill.audit import audit

    metrics = audit(str(out), str(tmp_path / "audit"))
    (listed,) = metrics["harmonization"]["class_maps"]
    assert listed["classes"] == 3 and {r["raw"] for r in listed["mapped"]} == {
        "pleural effusion",
        "hydropneumothorax",
    }
    page = (tmp_path / "audit" / "index.html").read_text()
    assert "Image classes" in page and "2 of 3 classes map onto the ontology" in page
