"""Worker scaling: the same build with one and with two worker processes on this machine.

A CPU-bound build (JPEG photos decoded, resized to 256 px and re-encoded as PNG, a report mined
per sample), run with `--direct_running_mode multi_processing` and 1 then 2 workers, alternating,
each in its own process. Prints wall seconds, samples/s and the speed-up of two workers over
one (goal >= 1.7x on 2 free cores), checks that both give byte-identical shards, and prints the
load average before and after: the figure only means something when nothing else runs.

One worker is not one core: its load threads decode and encode images with the GIL released.
So each mode also prints the cores the machine kept busy (from /proc/stat), and the whole
comparison runs twice: with the default `load_threads` and with `load_threads: 1`, where a
worker is close to one core and the second worker has a core to gain.

    .venv/bin/python benchmarks/build_workers.py [--samples 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import io
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

from labelmill.schemas.config import BuildConfig, LabelerSpec

GOAL = 1.7
DEFAULT_LOAD_THREADS = BuildConfig.__dataclass_fields__["load_threads"].default
REPORT = "FINDINGS: Mild cardiomegaly. No pleural effusion or pneumothorax. Study {i}."


def make_dataset(root: Path, n: int) -> Path:
    """N distinct 640x480 JPEGs (noise over a gradient, so each decodes and encodes for real)."""
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, 640, dtype=np.float32)[None, :, None]
    lines = ["id,image,report"]
    for i in range(n):
        noise = rng.integers(0, 55, (480, 640, 3), dtype=np.uint8)
        pixels = (noise + ramp).clip(0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
        (images / f"{i:06d}.jpg").write_bytes(buffer.getvalue())
        lines.append(f"s{i:06d},images/{i:06d}.jpg,{REPORT.format(i=i)}")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def timed(manifest: str, out: str, workers: int, load_threads: int) -> dict[str, float]:
    """One build in this process; its wall seconds."""
    from labelmill.pipelines.build import run

    config = BuildConfig(
        input=manifest,
        output=out,
        image_format="png",
        max_image_side=256,
        shard_max_samples=100,  # enough shards that neither worker waits for the other
        load_threads=load_threads,
        labelers=(LabelerSpec("reports", {"ontology": "chestxray14"}),),
    )
    beam_args = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    started = time.perf_counter()
    summary = run(config, beam_args, show_progress=False)
    assert summary["counts"]["balanced"] and summary["counts"]["rejected"] == 0
    return {"wall": time.perf_counter() - started}


def digest(out: Path) -> str:
    """One hash over every shard's bytes, in name order."""
    sha = hashlib.sha256()
    for tar in sorted((out / "shards").glob("*.tar")):
        sha.update(tar.name.encode() + tar.read_bytes())
    return sha.hexdigest()


def busy_jiffies() -> tuple[int, int]:
    """(all, busy) CPU jiffies of the machine so far, summed over cores (Linux)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return sum(ticks), sum(ticks) - ticks[3] - ticks[4]  # idle and iowait


def measure(manifest: Path, out: Path, workers: int, load_threads: int) -> tuple[float, str, float]:
    """One build in a fresh process: wall seconds, the shards' digest and the cores kept busy."""
    shutil.rmtree(out, ignore_errors=True)
    here = str(Path(__file__).parent)
    code = (
        f"import sys, json; sys.path.insert(0, {here!r}); import build_workers as b;"
        f"print(json.dumps(b.timed({str(manifest)!r}, {str(out)!r}, {workers}, {load_threads})))"
    )
    command = [sys.executable, "-c", code]
    total_before, busy_before = busy_jiffies()
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    total_after, busy_after = busy_jiffies()
    cores = os.cpu_count() * (busy_after - busy_before) / max(total_after - total_before, 1)
    wall = json.loads(result.stdout.strip().splitlines()[-1])["wall"]
    shards = digest(out)
    shutil.rmtree(out, ignore_errors=True)
    return wall, shards, cores


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/labelmill-bench-workers")
    args = parser.parse_args()
    root = Path(args.workdir)
    shutil.rmtree(root, ignore_errors=True)
    manifest = make_dataset(root, args.samples)
    print(f"{args.samples:,} samples; before: {load_average()}")
    digests = set()
    for load_threads in (DEFAULT_LOAD_THREADS, 1):
        walls: dict[int, list[float]] = {1: [], 2: []}
        cores: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):
            for workers in walls:
                wall, shards, busy = measure(manifest, root / "out", workers, load_threads)
                walls[workers].append(wall)
                cores[workers].append(busy)
                digests.add(shards)
        print(f"load_threads: {load_threads}")
        median = {w: statistics.median(v) for w, v in walls.items()}
        for workers, wall in median.items():
            rate = args.samples / wall
            busy = statistics.median(cores[workers])
            print(
                f"  {workers} worker(s): {wall:7.2f} s wall (median of {args.repeats}), "
                f"{rate:,.0f}/s, {busy:.2f} of {os.cpu_count()} cores busy"
            )
        speedup = median[1] / median[2]
        ceiling = os.cpu_count() / statistics.median(cores[1])
        verdict = "met" if speedup >= GOAL else "missed"
        print(
            f"  two workers / one: {speedup:.2f}x (goal >= {GOAL}x: {verdict}; "
            f"the cores one worker leaves idle allow at most {ceiling:.2f}x)"
        )
    print(f"shards byte-identical across runs and settings: {'yes' if len(digests) == 1 else 'NO'}")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
