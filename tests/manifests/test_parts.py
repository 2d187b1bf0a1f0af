"""Input parts: one listing in the launcher, units cut by workers, rows numbered per unit."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelmill.manifests.parts import FOLDER, list_inputs, read_unit, split_unit
from labelmill.manifests.read import ManifestError


def test_folder_of_parts_skips_hidden_files_and_keeps_name_order(tmp_path):
    for name in ("b.csv", "a.csv", "_SUCCESS", ".a.csv.crc", "notes.txt"):
        (tmp_path / name).write_text("id,image\nx,x.png\n")
    (tmp_path / "_tmp").mkdir()
    (tmp_path / "_tmp" / "c.csv").write_text("id,image\n")
    units = list_inputs(str(tmp_path))
    assert [u.url.rsplit("/", 1)[-1] for u in units] == ["a.csv", "b.csv"]
    assert [u.key for u in units] == [(0, 0), (1, 0)]


def test_glob_single_file_and_image_folder(tmp_path):
    for name in ("m-1.jsonl", "m-0.jsonl", "other.jsonl"):
        (tmp_path / name).write_text('{"id": "a", "image": "a.png"}\n')
    assert len(list_inputs(str(tmp_path / "m-*.jsonl"))) == 2
    (unit,) = list_inputs(str(tmp_path / "other.jsonl"))
    assert unit.kind == "jsonl"
    (tmp_path / "images").mkdir()
    assert list_inputs(str(tmp_path))[0].kind == FOLDER
    with pytest.raises(ManifestError, match="no file matches"):
        list_inputs(str(tmp_path / "z-*.csv"))
    with pytest.raises(ManifestError, match="no such file"):
        list_inputs(str(tmp_path / "absent.csv"))


def test_parquet_splits_into_row_groups_numbered_within_each(tmp_path):
    table = pa.table({"id": [f"s{i}" for i in range(10)], "image": ["x.png"] * 10})
    pq.write_table(table, tmp_path / "m.parquet", row_group_size=4)
    (unit,) = list_inputs(str(tmp_path / "m.parquet"))
    units = split_unit(unit)
    assert [u.key for u in units] == [(0, 0), (0, 1), (0, 2)]
    rows = [list(read_unit(u)) for u in units]
    assert [[r.row for r in part] for part in rows] == [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2]]
    assert rows[1][0].id == "s4" and rows[1][0].base == str(tmp_path)


def test_parquet_without_a_required_column_names_it(tmp_path):
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "m.parquet")
    (unit,) = list_inputs(str(tmp_path / "m.parquet"))
    with pytest.raises(ManifestError, match="'image'"):
        for part in split_unit(unit):
            list(read_unit(part))
