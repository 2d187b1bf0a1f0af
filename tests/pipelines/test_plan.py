"""The launcher's plan and the row rules the graph applies: keys and dedup, shards by position."""

from __future__ import annotations

import pytest

from labelmill.manifests.parts import offsets
from labelmill.pipelines.plan import key_of, settle_key
from labelmill.schemas.records import InputRow, Reject


def row(number: int, sample_id: str) -> InputRow:
    return InputRow(row=number, id=sample_id, image=f"{number}.png")


def test_first_row_by_position_keeps_the_key_in_any_order():
    rows = [row(9, "a"), row(2, "a.b"), row(4, "a"), row(7, "a_b"), row(3, "a.b")]
    key = key_of(rows[1])[0]
    assert key_of(rows[3])[0] != key  # "a_b" is safe as it is; "a.b" gets a hash
    forward = list(settle_key(key, rows[1:2] + rows[4:5]))
    backward = list(settle_key(key, list(reversed(rows[1:2] + rows[4:5]))))
    assert sorted(map(str, forward)) == sorted(map(str, backward))
    kept = [item for item in forward if not isinstance(item, Reject)]
    assert [r.row for r, _ in kept] == [2]
    (reject,) = [item for item in forward if isinstance(item, Reject)]
    assert (reject.row, reject.reason, reject.detail) == (
        3,
        "duplicate_id",
        "id 'a.b' already at row 2",
    )


def test_key_collision_names_the_holder_and_a_repeat_of_a_loser_is_a_duplicate():
    rows = [row(5, "x"), row(1, "y"), row(8, "x")]
    results = sorted(settle_key("k", rows), key=lambda item: str(item))
    by_row = {(item.row if isinstance(item, Reject) else item[0].row): item for item in results}
    assert by_row[1] == (rows[1], "k")
    assert (
        by_row[5].reason == "key_collision" and by_row[5].detail == "key 'k' already used by id 'y'"
    )
    assert by_row[8].reason == "duplicate_id" and by_row[8].detail == "id 'x' already at row 5"


@pytest.mark.parametrize("sample_id", ["", "  "])
def test_empty_ids_are_rejected_before_any_grouping(sample_id):
    reject = key_of(row(3, sample_id))
    assert isinstance(reject, Reject) and reject.reason == "empty_id" and reject.row == 3


def test_offsets_follow_unit_order_not_arrival_order():
    counts = {(2, 0): 5, (0, 1): 3, (0, 0): 4, (1, 0): 0}
    assert offsets(counts) == {(0, 0): 0, (0, 1): 4, (1, 0): 7, (2, 0): 7}
