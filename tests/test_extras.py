"""Optional modules map to the extra that installs them."""

from __future__ import annotations

import pytest

from labelmill.extras import MissingExtraError, as_missing_extra, extra_for, require


def test_modules_name_their_extra() -> None:
    assert extra_for("torch.nn") == "images" and extra_for("matplotlib") == "audit"
    assert extra_for("gcsfs") == "gcp" and extra_for("s3fs") == "s3"
    assert extra_for("numpy") is None


def test_require_raises_one_error_naming_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(MissingExtraError) as caught:
        require("matplotlib", "the audit's figures")
    assert str(caught.value) == (
        "the audit's figures needs the 'matplotlib' package: pip install \"labelmill[audit]\""
    )
    assert caught.value.extra == "audit"


def test_the_cause_chain_names_the_module() -> None:
    try:
        try:
            raise ModuleNotFoundError("No module named 's3fs'", name="s3fs")
        except ImportError as inner:
            raise ImportError("Install s3fs to access S3") from inner
    except ImportError as outer:
        error = as_missing_extra(outer, "the input s3://b/m.csv")
    assert isinstance(error, MissingExtraError) and error.extra == "s3"
    other = ImportError("something else", name="not_an_extra")
    assert as_missing_extra(other, "x") is other
