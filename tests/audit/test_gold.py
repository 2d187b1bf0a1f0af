"""Reading gold files in every documented shape, their errors, and the bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill.audit.gold import GoldError, bootstrap, read_gold, scores


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_columns_with_blanks(tmp_path: Path) -> None:
    gold = read_gold(write(tmp_path, "g.csv", "id,A,B\nx,1,\ny,0.0,true\n"))
    assert gold.match == "id"
    assert gold.labels == ("A", "B")
    assert gold.rows == {"x": {"A": 1}, "y": {"A": 0, "B": 1}}


def test_csv_labels_column_closes_the_label_set(tmp_path: Path) -> None:
    gold = read_gold(write(tmp_path, "g.csv", "key,labels\nk1,A|B\nk2,\nk3, B \n"))
    assert gold.match == "key"
    assert gold.rows == {"k1": {"A": 1, "B": 1}, "k2": {"A": 0, "B": 0}, "k3": {"A": 0, "B": 1}}


def test_jsonl_with_label_lists_and_columns(tmp_path: Path) -> None:
    listed = read_gold(write(tmp_path, "g.jsonl", '{"id": "a", "labels": ["X"]}\n\n{"id": "b"}\n'))
    assert listed.rows == {"a": {"X": 1}, "b": {"X": 0}}
    columns = read_gold(write(tmp_path, "c.jsonl", '{"id": "a", "X": 1, "Y": null}\n'))
    assert columns.rows == {"a": {"X": 1}}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "name,A\nx,1\n", "needs an 'id' or 'key' column"),
        ("b.csv", "id,A\nx,2\n", "row 1, column 'A': '2' is not 1, 0 or blank"),
        ("c.csv", "id,A\nx,1\nx,0\n", "'x' appears twice"),
        ("d.jsonl", '{"id": "x"\n', "row 1: not valid JSON"),
        ("e.csv", "", "empty table"),
    ],
)
def test_bad_gold_files_name_the_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(GoldError) as info:
        read_gold(write(tmp_path, name, text))
    assert message in str(info.value)


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    first = scores(40, 10, 20, 30, seed=7)
    assert first == scores(40, 10, 20, 30, seed=7)
    assert first["precision"] == 0.8
    for name in ("precision", "recall", "f1"):
        lo, hi = first["ci95"][name]
        assert lo < first[name] < hi
        assert hi - lo < 0.4
    wide = bootstrap(4, 1, 2, 3, seed=7)["f1"]
    narrow = bootstrap(400, 100, 200, 300, seed=7)["f1"]
    assert wide is not None and narrow is not None
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_all_correct_small_cells_keep_a_wide_interval() -> None:
    tiny = scores(3, 0, 0, 27, seed=1)
    assert tiny["f1"] == 1.0
    assert tiny["ci95"]["f1"][0] < 0.8 and tiny["ci95"]["precision"][0] < 0.5


def test_undefined_scores_are_null() -> None:
    empty = scores(0, 0, 0, 5, seed=1)
    assert (empty["precision"], empty["recall"], empty["f1"]) == (None, None, None)
    assert empty["ci95"] == {"precision": None, "recall": None, "f1": None}
