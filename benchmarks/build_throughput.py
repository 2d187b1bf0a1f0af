"""Build throughput: `labelmill build` against a plain loop over `webdataset.TarWriter`.

Both get the same N synthetic samples (small JPEG images on disk and a short report each), on
the same machine, in one run, alternating (plain, build, plain, build, ...) so that load from
elsewhere hits both alike. Each measurement runs in its own process, so its peak memory (max
RSS) is its own; CPU time is that process's (all threads) plus its children's, which on a
shared machine says more than wall time. Prints medians per N, the ratios build / plain
against the goals (CPU <= 1.2x, wall <= 1.25x) and how peak memory grows with N.

    .venv/bin/python benchmarks/build_throughput.py [--sizes 5000,20000,100000] [--repeats 3]
        [--load-threads N] [--workdir /tmp/lm-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPORT = "FINDINGS: Heart size is normal. No pleural effusion or pneumothorax. Sample {i}."
GOALS = {"cpu": 1.2, "wall": 1.25}


def make_images(root: Path, n: int) -> None:
    """N small JPEGs (a few tiles reused, so generation is quick) under root/images."""
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tiles = []
    for t in range(16):
        base = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        tile = Image.fromarray(base).resize((96, 96), Image.Resampling.BILINEAR)
        path = root / f"tile{t}.jpg"
        tile.save(path, quality=90)
        tiles.append(path.read_bytes())
    for i in range(n):
        (images / f"{i:07d}.jpg").write_bytes(tiles[i % len(tiles)])


def make_manifest(root: Path, n: int) -> Path:
    """A CSV manifest over the first N images, with a short report per row."""
    lines = ["id,image,report"]
    lines += [f"s{i:07d},images/{i:07d}.jpg,{REPORT.format(i=i)}" for i in range(n)]
    manifest = root / f"manifest-{n}.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def run_plain(manifest: Path, out: Path, load_threads: int) -> None:
    """The baseline: read each row's bytes and write them with webdataset's TarWriter."""
    import csv

    import webdataset as wds

    out.mkdir(parents=True, exist_ok=True)
    with open(manifest, newline="") as fh, wds.TarWriter(str(out / "plain.tar")) as sink:
        for row in csv.DictReader(fh):
            image = (manifest.parent / row["image"]).read_bytes()
            info = {"id": row["id"], "image": row["image"]}
            sink.write(
                {"__key__": row["id"], "jpg": image, "txt": row["report"].encode(), "json": info}
            )


def run_build(manifest: Path, out: Path, load_threads: int) -> None:
    """The whole build: plan, Beam on the in-process runner, shards, manifests."""
    from labelmill.pipelines.build import run
    from labelmill.schemas.config import BuildConfig

    config = BuildConfig(
        input=str(manifest), output=str(out), shard_max_samples=5000, load_threads=load_threads
    )
    summary = run(config, show_progress=False)
    assert summary["counts"]["balanced"] and summary["counts"]["rejected"] == 0


def imports(kind: str) -> None:
    """What each side imports before its clock starts (start-up is not what is compared)."""
    if kind == "plain":
        import webdataset  # noqa: F401
    else:
        import apache_beam  # noqa: F401

        import labelmill.pipelines.build  # noqa: F401


def timed(kind: str, manifest: str, out: str, load_threads: int) -> dict[str, float]:
    """Run one side in this process; wall and CPU seconds (self and children) and max RSS."""
    import resource

    imports(kind)
    runner = {"plain": run_plain, "build": run_build}[kind]

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    wall, started = time.perf_counter(), cpu()
    runner(Path(manifest), Path(out), load_threads)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": cpu() - started,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(kind: str, manifest: Path, out: Path, load_threads: int) -> dict[str, float]:
    """One measurement in a fresh process."""
    shutil.rmtree(out, ignore_errors=True)
    here = str(Path(__file__).parent)
    code = (
        f"import sys, json; sys.path.insert(0, {here!r}); import build_throughput as b;"
        f"print(json.dumps(b.timed({kind!r}, {str(manifest)!r}, {str(out)!r}, {load_threads})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return figures


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load-threads", type=int, default=None, help="default: the config's")
    parser.add_argument("--workdir", default="/tmp/labelmill-bench")
    args = parser.parse_args()
    from labelmill.schemas.config import BuildConfig

    threads = args.load_threads or BuildConfig(input="-", output="-").load_threads
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(args.workdir)
    shutil.rmtree(root, ignore_errors=True)
    started = time.time()
    make_images(root, max(sizes))
    print(f"{max(sizes):,} images in {time.time() - started:.1f} s; {load_average()}")
    print(f"medians of {args.repeats}, build with load_threads={threads}")
    header = f"{'N':>8} {'side':>6} {'wall s':>8} {'CPU s':>8} {'CPU us/sample':>14} {'RSS MB':>7}"
    print(header)
    peaks = []
    for n in sizes:
        manifest = make_manifest(root, n)
        runs: dict[str, list[dict[str, float]]] = {"plain": [], "build": []}
        for _ in range(args.repeats):
            for kind in runs:
                runs[kind].append(measure(kind, manifest, root / f"out-{kind}", threads))
        med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in runs.items()}
        for kind, fig in med.items():
            per = fig["cpu"] / n * 1e6
            print(
                f"{n:>8,} {kind:>6} {fig['wall']:>8.2f} {fig['cpu']:>8.2f} {per:>14.0f}"
                f" {fig['rss_mb']:>7.0f}"
            )
        ratios = {f: med["build"][f] / med["plain"][f] for f in GOALS}
        verdict = ", ".join(
            f"{f} {r:.2f}x (goal <= {GOALS[f]}x: {'met' if r <= GOALS[f] else 'missed'})"
            for f, r in ratios.items()
        )
        print(f"{n:>8,}  ratio build/plain: {verdict}")
        peaks.append((n, med["build"]["rss_mb"]))
    (n0, rss0), (n1, rss1) = peaks[0], peaks[-1]
    growth = rss1 - rss0
    print(f"build peak RSS {rss0:.0f} MB at N={n0:,}, {rss1:.0f} MB at N={n1:,} ({growth:+.0f} MB)")
    print(f"after the run: {load_average()}")


if __name__ == "__main__":
    main()
