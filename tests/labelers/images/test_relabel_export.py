"""Export to ReLabel's [2, k, H, W] layout: exact at a location, and from shards via the CLI."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import webdataset as wds
from typer.testing import CliRunner

from labelmill.labelers.images.labeler import INDEX_ARRAY, SCORE_ARRAY
from labelmill.labelers.images.relabel_export import to_relabel
from labelmill.pipelines.cli import app


def test_softmax_of_exported_logits_gives_back_the_probabilities() -> None:
    index = np.array([[[7]], [[2]], [[5]]], dtype=np.int16)
    score = np.array([[[0.5]], [[0.25]], [[0.125]]], dtype=np.float16)
    out = to_relabel(index, score, num_classes=10)
    assert out.shape == (2, 3, 1, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1, :, 0, 0], [7, 2, 5])
    logits = np.zeros(10)
    logits[[7, 2, 5]] = out[0, :, 0, 0]
    probs = np.exp(logits) / np.exp(logits).sum()
    expected = np.full(10, 0.125 / 7)
    expected[[7, 2, 5]] = [0.5, 0.25, 0.125]
    np.testing.assert_allclose(probs, expected, rtol=1e-6)


def test_to_relabel_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="k, H, W"):
        to_relabel(np.zeros((2, 3), np.int16), np.zeros((2, 3), np.float16), 10)
    with pytest.raises(ValueError, match="exceed k"):
        to_relabel(np.zeros((3, 1, 1), np.int16), np.zeros((3, 1, 1), np.float16), 3)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_export_relabel_command(tmp_path) -> None:
    built = tmp_path / "built"
    (built / "shards").mkdir(parents=True)
    index = np.arange(8, dtype=np.int16).reshape(2, 2, 2)
    score = np.full((2, 2, 2), 0.25, dtype=np.float16)
    with wds.TarWriter(str(built / "shards" / "data-000000.tar")) as sink:
        sink.write(
            {"__key__": "a", f"{INDEX_ARRAY}.npy": _npy(index), f"{SCORE_ARRAY}.npy": _npy(score)}
        )
        sink.write({"__key__": "no_map", "txt": b"report only"})
    runner = CliRunner()
    missing = runner.invoke(app, ["export-relabel", str(built), str(tmp_path / "out")])
    assert missing.exit_code != 0 and "num-classes" in missing.output
    (built / "run.json").write_text(
        json.dumps({"labelers": [{"classes": [f"c{i}" for i in range(9)]}]})
    )
    result = runner.invoke(app, ["export-relabel", str(built), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    exported = np.load(tmp_path / "out" / "a.npy", allow_pickle=False)
    np.testing.assert_array_equal(exported, to_relabel(index, score, num_classes=9))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.npy"]
