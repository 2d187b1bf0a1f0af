"""A manifest given as part files (CSV, JSONL, Parquet with several row groups) builds the same
shards, manifest and rejects as the single file with the same rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelmill.manifests.built import read_manifest, read_rejects
from labelmill.manifests.read import ManifestError, infer
from labelmill.pipelines.build import run
from labelmill.schemas.config import BuildConfig

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
META = ("age",)  # the sample manifest's typed metadata column
CUTS = (7, 25)  # three parts of mixed sizes: 7, 18 and 13 rows


def rows_with_cross_file_duplicates() -> list[dict[str, str]]:
    """The sample rows with absolute paths, plus repeats that fall into other parts."""
    with open(SAMPLE / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for column in ("image", "report_path"):
            if row[column]:
                row[column] = str(SAMPLE / row[column])
    rows.insert(20, {**rows[2], "site": "dup-of-row-3"})  # duplicate id, second part
    rows.append({**rows[5], "id": rows[5]["id"] + " "})  # same id once stripped, third part
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def shards(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


def build(source: Path, out: Path) -> dict:
    # the rows name the bundled sample files by absolute path, outside each manifest's folder
    config = BuildConfig(
        input=str(source), output=str(out), shard_max_samples=6, allow_roots=(str(SAMPLE),)
    )
    return run(config, show_progress=False)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    root = tmp_path_factory.mktemp("single")
    write_csv(root / "m.csv", rows_with_cross_file_duplicates())
    return build(root / "m.csv", root / "out"), root / "out"


def parts(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    return [rows[: CUTS[0]], rows[CUTS[0] : CUTS[1]], rows[CUTS[1] :]]


def test_csv_parts_in_a_folder_build_like_the_single_file(single, tmp_path):
    summary, expected = single
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate(parts(rows_with_cross_file_duplicates())):
        write_csv(folder / f"part-{i}.csv", part)
    (folder / "_SUCCESS").write_text("")
    result = build(folder, tmp_path / "out")
    assert summary["counts"]["rejected_by_reason"]["duplicate_id"] == 3
    assert result["counts"] == summary["counts"]
    assert shards(tmp_path / "out") == shards(expected)
    assert read_rejects(str(tmp_path / "out")) == read_rejects(str(expected))
    assert read_manifest(str(tmp_path / "out")) == read_manifest(str(expected))
    details = {r["row"]: r["detail"] for r in read_rejects(str(expected))}
    assert details[21] == "id 'study-002' already at row 3"


def test_jsonl_glob_and_parquet_row_groups_build_like_the_single_file(single, tmp_path):
    _, expected = single
    rows = rows_with_cross_file_duplicates()
    # typed as the CSV reader infers them (an age of 40 is an int in both)
    rows = [{k: (infer(v) if k in META else v) or None for k, v in r.items()} for r in rows]
    for i, part in enumerate(parts(rows)):
        lines = [json.dumps(r) for r in part]
        (tmp_path / f"m-{i}.jsonl").write_text("\n".join(lines) + "\n")
    build(tmp_path / "m-*.jsonl", tmp_path / "jsonl-out")
    assert shards(tmp_path / "jsonl-out") == shards(expected)
    table = pa.Table.from_pylist(rows)
    (tmp_path / "pq").mkdir()
    pq.write_table(table.slice(0, 30), tmp_path / "pq" / "a.parquet", row_group_size=4)
    pq.write_table(table.slice(30), tmp_path / "pq" / "b.parquet", row_group_size=5)
    build(tmp_path / "pq", tmp_path / "pq-out")
    assert shards(tmp_path / "pq-out") == shards(expected)
    assert read_rejects(str(tmp_path / "pq-out")) == read_rejects(str(expected))


def test_mixed_part_formats_are_refused(tmp_path):
    rows = rows_with_cross_file_duplicates()
    write_csv(tmp_path / "a.csv", rows[:3])
    (tmp_path / "b.jsonl").write_text(json.dumps(rows[4]) + "\n")
    with pytest.raises(ManifestError, match="mixed formats"):
        build(tmp_path, tmp_path / "out")
