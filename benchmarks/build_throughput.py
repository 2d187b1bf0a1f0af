"""Build throughput: `labelmill build` against a plain loop over `webdataset.TarWriter`.

Both get the same N synthetic samples (small JPEG images on disk and a short report each), on
the same machine, in one run. Each measurement runs in its own process so that its peak
memory (max RSS) is its own. Prints samples/s, MB/s, the ratio, and peak memory at N/4 and N
(flat memory means the build streams instead of holding the dataset).

    .venv/bin/python benchmarks/build_throughput.py [--n 20000] [--workdir /tmp/lm-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPORT = "FINDINGS: Heart size is normal. No pleural effusion or pneumothorax. Sample {i}."


def make_samples(root: Path, n: int) -> Path:
    """N small JPEGs (a few tiles reused, so generation is quick) and a CSV manifest."""
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tiles = []
    for _ in range(16):
        base = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        tile = Image.fromarray(base).resize((96, 96), Image.Resampling.BILINEAR)
        path = root / f"tile{len(tiles)}.jpg"
        tile.save(path, quality=90)
        tiles.append(path.read_bytes())
    lines = ["id,image,report"]
    for i in range(n):
        (images / f"{i:07d}.jpg").write_bytes(tiles[i % len(tiles)])
        lines.append(f"s{i:07d},images/{i:07d}.jpg,{REPORT.format(i=i)}")
    manifest = root / f"manifest-{n}.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def run_plain(manifest: Path, out: Path) -> float:
    """The baseline: read each row's bytes and write them with webdataset's TarWriter."""
    import csv

    import webdataset as wds

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(manifest, newline="") as fh, wds.TarWriter(str(out / "plain.tar")) as sink:
        for row in csv.DictReader(fh):
            image = (manifest.parent / row["image"]).read_bytes()
            info = {"id": row["id"], "image": row["image"]}
            sink.write(
                {"__key__": row["id"], "jpg": image, "txt": row["report"].encode(), "json": info}
            )
    return time.perf_counter() - started


def run_build(manifest: Path, out: Path) -> float:
    """The whole build: plan, Beam on the in-process runner, shards, manifests."""
    import apache_beam  # noqa: F401 - imported before the clock starts, like webdataset above

    from labelmill.pipelines.build import run
    from labelmill.schemas.config import BuildConfig

    config = BuildConfig(input=str(manifest), output=str(out), shard_max_samples=5000)
    started = time.perf_counter()
    summary = run(config, show_progress=False)
    assert summary["counts"]["balanced"] and summary["counts"]["rejected"] == 0
    return time.perf_counter() - started


def measure(kind: str, manifest: Path, out: Path) -> dict:
    """Run one measurement in a fresh process; returns seconds, output bytes and max RSS."""
    shutil.rmtree(out, ignore_errors=True)
    here = str(Path(__file__).parent)
    code = (
        f"import sys, json, resource; sys.path.insert(0, {here!r});"
        "import build_throughput as b; from pathlib import Path;"
        f"s = b.run_{kind}(Path({str(manifest)!r}), Path({str(out)!r}));"
        "print(json.dumps({'seconds': s,"
        " 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["bytes"] = sum(p.stat().st_size for p in out.rglob("*.tar"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--workdir", default="/tmp/labelmill-bench")
    args = parser.parse_args()
    root = Path(args.workdir)
    shutil.rmtree(root, ignore_errors=True)
    started = time.time()
    small = make_samples(root, args.n // 4)
    full = make_samples(root, args.n)
    print(
        f"{args.n:,} samples generated in {time.time() - started:.1f} s, cpu count {os.cpu_count()}"
    )
    rows = []
    for n, manifest in ((args.n // 4, small), (args.n, full)):
        plain = measure("plain", manifest, root / f"plain-{n}")
        build = measure("build", manifest, root / f"build-{n}")
        rows.append((n, plain, build))
    print(f"{'N':>8} {'pipeline':>10} {'samples/s':>10} {'MB/s':>8} {'peak RSS MB':>12}")
    for n, plain, build in rows:
        for name, fig in (("plain", plain), ("labelmill", build)):
            rate = n / fig["seconds"]
            mbs = fig["bytes"] / fig["seconds"] / 1e6
            print(f"{n:>8,} {name:>10} {rate:>10,.0f} {mbs:>8.1f} {fig['rss_mb']:>12.0f}")
        print(f"{n:>8,} {'ratio':>10} {build['seconds'] / plain['seconds']:>10.2f}x slower")
    (_, _, small_build), (_, _, full_build) = rows
    growth = full_build["rss_mb"] - small_build["rss_mb"]
    print(f"labelmill peak RSS grows {growth:+.0f} MB from N={args.n // 4:,} to N={args.n:,}")
    print(
        f"(the labelmill figure includes interpreter and Beam start-up; {resource.getpagesize()}"
        " B pages)"
    )


if __name__ == "__main__":
    main()
