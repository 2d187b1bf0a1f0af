"""Convert the stored label maps to the layout of the "Re-labeling ImageNet" release.

ReLabel ships one `[2, k, H, W]` float tensor per image: `[0]` holds top-k scores and `[1]` the
class ids (as floats). Its training code scatters the scores into a zero map over all classes,
RoI-aligns the crop and applies a softmax, so the scores must behave as logits in which every
class outside the top k sits at 0. The stored maps hold probabilities; the logit that makes
softmax over (top-k logits, zeros elsewhere) give back exactly those probabilities at a location is
log(p / q), with q the probability left over, spread evenly over the other classes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from labelmill.labelers.images.labeler import INDEX_ARRAY, SCORE_ARRAY
from labelmill.pipelines.shard_reader import UnsafeShardError, decode_member, iter_samples

_FILE_KEY = re.compile(r"[A-Za-z0-9_-]{1,200}")  # the key charset of manifests/keys.py
# Floor for the left-over probability, so that a top-k holding all the mass stays finite.
MIN_REST = 1e-6


def to_relabel(index: np.ndarray, score: np.ndarray, num_classes: int) -> np.ndarray:
    """`[k, H, W]` ids and probabilities -> ReLabel's float32 `[2, k, H, W]` (logits, ids)."""
    if index.shape != score.shape or index.ndim != 3:
        raise ValueError(f"expected two [k, H, W] arrays, got {index.shape} and {score.shape}")
    k = index.shape[0]
    if num_classes <= k:
        raise ValueError(f"num_classes ({num_classes}) must exceed k ({k})")
    p = np.clip(score.astype(np.float64), MIN_REST, None)
    rest = np.clip(1.0 - p.sum(axis=0, keepdims=True), MIN_REST, None) / (num_classes - k)
    return np.stack([np.log(p / rest), index.astype(np.float64)]).astype(np.float32)


def iter_shard_maps(root: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(key, index, score) for every sample with a label map in the `.tar` shards under `root`.

    Read with the safe shard reader: a member named with `..` or an absolute path is refused,
    so the keys used as output file names below can never leave the output folder."""
    for shard in sorted(root.rglob("*.tar")):
        for key, members in iter_samples(str(shard)):
            if f"{INDEX_ARRAY}.npy" in members:
                index = decode_member("npy", members[f"{INDEX_ARRAY}.npy"])
                yield key, index, decode_member("npy", members[f"{SCORE_ARRAY}.npy"])


def export_dir(root: Path, out: Path, num_classes: int) -> int:
    """Write `{key}.npy` in ReLabel's layout for every map in the shards under `root`; returns
    the count. A key must be one plain file name (no `/`), and each file is written to a fresh
    temporary name and renamed into place, so a symlink planted in `out` is replaced, never
    followed: nothing is written outside `out`."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for key, index, score in iter_shard_maps(root):
        if not _FILE_KEY.fullmatch(key):
            raise UnsafeShardError(f"sample key {key!r} is not a plain file name; not exported")
        buffer = io.BytesIO()
        np.save(buffer, to_relabel(index, score, num_classes), allow_pickle=False)
        _write_inside(out, f"{key}.npy", buffer.getvalue())
        count += 1
    return count


def _write_inside(folder: Path, name: str, data: bytes) -> None:
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
