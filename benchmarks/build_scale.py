"""How the build scales with the number of rows: wall time, rows/s, peak memory of the launcher and
of every worker process, and where the time goes.

Each N builds a generated manifest of N rows that all reference one tiny shared image (distinct
ids, no labelers), so what is measured is the pipeline, not image decoding. A last run builds
`--labeled` rows with report mining and Dawid-Skene, against the same rows with majority vote
(the baseline for the label-model pass). Each build runs as Dataflow Runner v2 runs it: a
`labelmill build` launcher submits to a local job service (Beam's runner, which also holds the
local shuffle: Dataflow's Shuffle service in the cloud) whose workers come from a worker pool.
Peak RSS (VmHWM) and CPU are sampled from /proc for the launcher, the runner and each worker.
Phases come from what the build leaves: planning and reading up to the first shard marker,
shard building up to the last one, outputs up to run.json.

    python benchmarks/build_scale.py --n 10000 --n 100000 [--n 1000000] [--labeled 100000]
        [--shard-sizes 100 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (sampled: the last sample before it exits)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (workers are started from any of the launcher's threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [g for c in found for g in children(c)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service(module: str, *args: str) -> tuple[subprocess.Popen, int]:
    """A Beam service on a free local port, with this interpreter first on PATH (the worker
    pool starts workers as `python`)."""
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [sys.executable, "-m", module, *args, str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.2)
    raise SystemExit(f"{module} did not start")


def build(source: Path, out: Path, extra: list[str], workers: int, shard_size: int = 1000) -> dict:
    """Run one build, as Dataflow Runner v2 would: the launcher submits to a job service (the
    runner and its shuffle) whose workers come from a worker pool; returns its figures."""
    jobs, job_port = service("apache_beam.runners.portability.local_job_service_main", "--port")
    pool, pool_port = service("apache_beam.runners.worker.worker_pool_main", "--service_port")
    command = [str(Path(sys.executable).with_name("labelmill")), "build", "--input", str(source)]
    command += ["--output", str(out), "--quiet", "--shard-max-samples", str(shard_size), *extra]
    command += ["--runner", "PortableRunner", "--job_endpoint", f"localhost:{job_port}"]
    command += ["--environment_type", "EXTERNAL", "--environment_config", f"localhost:{pool_port}"]
    command += ["--sdk_worker_parallelism", str(workers)]
    started = time.time()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[str, int] = {}
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        peaks["launcher"] = max(peaks.get("launcher", 0), peak_rss(proc.pid))
        peaks["runner"] = max(peaks.get("runner", 0), peak_rss(jobs.pid))
        for child in children(pool.pid):
            peaks[f"worker {child}"] = max(peaks.get(f"worker {child}", 0), peak_rss(child))
        for pid in (proc.pid, jobs.pid, *children(pool.pid)):
            cpu[pid] = max(cpu.get(pid, 0.0), cpu_seconds(pid))
        time.sleep(0.2)
    wall = time.time() - started
    for service_proc in (jobs, pool):
        service_proc.kill()
        service_proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {proc.stderr.read().decode()[-2000:]}")
    markers = sorted(p.stat().st_mtime for p in (out / "_work" / "shards").glob("*.json"))
    done = (out / "run.json").stat().st_mtime
    summary = json.loads((out / "run.json").read_text())
    return {
        "rows": summary["counts"]["read"],
        "wall_s": round(wall, 1),
        "cpu_s": round(sum(cpu.values()), 1),
        "rows_per_s": round(summary["counts"]["read"] / wall),
        "us_per_row": round(wall / summary["counts"]["read"] * 1e6, 1),
        "launcher_rss_mb": round(peaks["launcher"] / 2**20),
        "runner_rss_mb": round(peaks["runner"] / 2**20),
        "worker_rss_mb": sorted(round(v / 2**20) for k, v in peaks.items() if k[:6] == "worker"),
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
    parser.add_argument(
        "--shard-sizes",
        type=int,
        nargs="+",
        default=[],
        help="also build the largest N with these samples per shard (worker RSS vs shard count)",
    )
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
        for shard_size in args.shard_sizes:
            n = sizes[-1]
            out = root / f"out-{n}-{shard_size}"
            found = build(source, out, ["--config", str(plain)], args.workers, shard_size)
            print(json.dumps({"n": n, "shard_max_samples": shard_size, **found}), flush=True)
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
