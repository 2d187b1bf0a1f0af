"""How the build scales with the number of rows: wall time, rows/s, peak memory of the launcher and
of every worker process, and where the time goes.

Each N builds a generated manifest of N rows that all reference one tiny shared image (distinct
ids, no labelers), so what is measured is the pipeline, not image decoding. A last run builds
`--labeled` rows with report mining and Dawid-Skene, against the same rows with majority vote
(the baseline for the label-model pass). Builds run as `labelmill build` subprocesses with
out-of-process workers, and peak RSS (VmHWM) is sampled from /proc for the launcher and each
worker. Phases come from what the build leaves: planning and reading up to the first shard
marker, shard building up to the last one, outputs up to run.json.

    python benchmarks/build_scale.py --n 10000 --n 100000 [--n 1000000] [--labeled 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPORT = "FINDINGS: Small left pleural effusion. No pneumothorax. Heart size is normal."


def manifest(root: Path, n: int, reports: bool) -> Path:
    """N rows, one shared 8x8 PNG; with `reports`, a short report per row and a label."""
    Image.new("L", (8, 8), 128).save(root / "tiny.png")
    path = root / f"m-{n}.csv"
    with open(path, "w") as fh:
        fh.write("id,image,report,labels\n" if reports else "id,image\n")
        for i in range(n):
            extra = f',"{REPORT}",effusion' if reports else ""
            fh.write(f"r{i:09d},tiny.png{extra}\n")
    return path


def peak_rss(pid: int) -> int:
    """VmHWM of a process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    out = [int(c) for c in found]
    return out + [g for c in out for g in children(c)]


def build(source: Path, out: Path, extra: list[str], workers: int) -> dict:
    """Run one build and return its figures."""
    command = [str(Path(sys.executable).with_name("labelmill")), "build", "--input", str(source)]
    command += ["--output", str(out), "--quiet", "--shard-max-samples", "1000", *extra]
    command += ["--direct_num_workers", str(workers), "--direct_running_mode", "multi_processing"]
    started = time.time()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    launcher, worker_peaks = 0, {}
    while proc.poll() is None:
        launcher = max(launcher, peak_rss(proc.pid))
        for child in children(proc.pid):
            worker_peaks[child] = max(worker_peaks.get(child, 0), peak_rss(child))
        time.sleep(0.2)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {proc.stderr.read().decode()[-2000:]}")
    markers = sorted(p.stat().st_mtime for p in (out / "_work" / "shards").glob("*.json"))
    done = (out / "run.json").stat().st_mtime
    summary = json.loads((out / "run.json").read_text())
    return {
        "rows": summary["counts"]["read"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu_s, 1),
        "rows_per_s": round(summary["counts"]["read"] / wall),
        "us_per_row": round(wall / summary["counts"]["read"] * 1e6, 1),
        "launcher_rss_mb": round(launcher / 2**20),
        "worker_rss_mb": sorted(round(v / 2**20) for v in worker_peaks.values() if v),
        "plan_read_s": round(markers[0] - started, 1),
        "shards_s": round(markers[-1] - markers[0], 1),
        "outputs_s": round(done - markers[-1], 1),
        "shards": len(summary["shards"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="rows (repeat for several)")
    parser.add_argument("--labeled", type=int, default=0, help="rows for the DS vs majority run")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = args.n or [10_000, 100_000]
    figures = {}
    with tempfile.TemporaryDirectory(prefix="labelmill-scale-") as tmp:
        root = Path(tmp)
        for n in sizes:
            source = manifest(root, n, reports=False)
            plain = root / "no-labelers.yaml"
            plain.write_text("labelers: []\n")
            figures[n] = build(source, root / f"out-{n}", ["--config", str(plain)], args.workers)
            print(json.dumps({"n": n, **figures[n]}), flush=True)
        base = figures[sizes[0]]["us_per_row"]
        for n in sizes:
            ratio = figures[n]["us_per_row"] / base
            print(f"per-row cost at {n:,} rows: {ratio:.2f}x that at {sizes[0]:,}")
        if args.labeled:
            source = manifest(root, args.labeled, reports=True)
            labeled = ["--report-ontology", "chestxray14", "--harmonize", "chestxray14"]
            results = {}
            for method in ("majority", "dawid-skene"):
                out = root / f"out-{method}"
                results[method] = build(
                    source, out, [*labeled, "--aggregate", method], args.workers
                )
                print(json.dumps({"method": method, **results[method]}), flush=True)
            for figure in ("wall_s", "cpu_s"):
                ratio = results["dawid-skene"][figure] / results["majority"][figure]
                print(f"dawid-skene {figure} at {args.labeled:,} rows: {ratio:.2f}x majority")


if __name__ == "__main__":
    os.environ.setdefault("LABELMILL_CACHE", tempfile.mkdtemp(prefix="labelmill-cache-"))
    main()
