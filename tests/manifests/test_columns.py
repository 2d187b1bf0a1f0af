"""Header matching and separator detection for manifests from other tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill.manifests.columns import ColumnMap, detect_separator, known_columns
from labelmill.manifests.read import read_inputs


@pytest.mark.parametrize(
    ("line", "sep"),
    [("id,image\n", ","), ("id;image;report\n", ";"), ("id\timage\n", "\t"), ("id\n", ",")],
)
def test_detect_separator(line: str, sep: str) -> None:
    assert detect_separator(line) == sep


def test_known_names_match_any_case_and_renames_win() -> None:
    names = ColumnMap(known_columns(("id", "image", "report"), {"report": "Findings"}))
    assert names.rename(["ID", " Image ", "FINDINGS", "report", "site"]) == [
        "id", "image", "report", "report_unused", "site",
    ]
    assert names.rename(["id", "ID"]) == ["id", "ID"]  # the exact name wins, the other is meta


def test_read_inputs_with_renamed_columns_and_typed_metadata(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Study;File;Age;Weight;Code\ns1;a.png;40;71.5;007\n")
    rows, rejects = read_inputs(str(path), columns={"id": "study", "image": "file"})
    assert rejects == [] and [(r.id, r.image) for r in rows] == [("s1", "a.png")]
    assert rows[0].meta == {"Age": 40, "Weight": 71.5, "Code": "007"}


def test_a_renamed_column_that_is_missing_is_named(tmp_path: Path) -> None:
    from labelmill.manifests.tables import TableError

    path = tmp_path / "m.csv"
    path.write_text("id,image\ns1,a.png\n")
    with pytest.raises(TableError, match="required column 'report' is missing"):
        read_inputs(str(path), columns={"report": "Findings"})
