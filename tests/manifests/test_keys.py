from hypothesis import given
from hypothesis import strategies as st

from labelmill.manifests.keys import MAX_KEY_LENGTH, is_safe_member_name, make_key


def test_plain_ids_are_kept():
    assert make_key("study-001_a") == "study-001_a"


def test_dots_slashes_and_dotdot_are_replaced_and_hashed():
    for raw in ["a.b", "../etc/passwd", "a/b", "a\\b", "/abs", "with space", "患者1"]:
        key = make_key(raw)
        assert "." not in key and "/" not in key and "\\" not in key and " " not in key
        assert key != raw
    assert make_key("a.b") != make_key("a_b")  # the hash keeps them apart


def test_empty_id_is_an_error():
    import pytest

    with pytest.raises(ValueError):
        make_key("   ")


def test_unsafe_member_names():
    assert is_safe_member_name("abc.json")
    for bad in ["../x.json", "/etc/x", "a/../../b", "C:x", "a\\b", "", "a//b"]:
        assert not is_safe_member_name(bad), bad


@given(st.text(min_size=1, max_size=300))
def test_any_id_gives_a_safe_stable_key(raw):
    if not raw.strip():
        return
    key = make_key(raw)
    assert key == make_key(raw)
    assert 0 < len(key) <= MAX_KEY_LENGTH
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    assert is_safe_member_name(f"{key}.json")
