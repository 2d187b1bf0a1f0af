"""Remote reads: the same build from local disk, from a GCS server and from an http server.

N synthetic samples (small JPEGs with a report each, as in build_throughput.py) are built three
times in one run, output on local disk: the manifest and images read from local disk (the
baseline), from fake-gcs-server (`gs://`), and from a web server on 127.0.0.1 that answers 500
to the first request of 2% of the files. Prints samples/s, the ratio to local, the retries,
and checks that nothing is lost: every sample written and the shards identical to local.

    .venv/bin/python benchmarks/remote_io.py [--n 5000] [--error-rate 0.02]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_throughput import make_images, make_manifest  # noqa: E402

from labelmill import fetch  # noqa: E402
from labelmill.pipelines.build import run  # noqa: E402
from labelmill.schemas.config import BuildConfig  # noqa: E402
from labelmill.testing.http_server import Faults, FaultyServer  # noqa: E402
from labelmill.testing.object_stores import fake_gcs, upload  # noqa: E402


def timed_build(manifest: str, out: Path) -> tuple[float, dict]:
    config = BuildConfig(input=manifest, output=str(out), shard_max_samples=1000)
    started = time.perf_counter()
    summary = run(config, show_progress=False)
    return time.perf_counter() - started, summary


def shards(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}


def measure(name: str, source: Callable[[], tuple[str, object]], n: int, root: Path) -> dict:
    """One build from `source()` (a manifest URL and the server to stop after it)."""
    manifest, server = source()
    retries = fetch.STATS.retries
    try:
        wall, summary = timed_build(manifest, root / f"out-{name}")
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    counts = summary["counts"]
    assert counts["balanced"] and counts["written"] == n, counts
    return {"wall": wall, "rate": n / wall, "retries": fetch.STATS.retries - retries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--error-rate", type=float, default=0.02)
    args = parser.parse_args()
    logging.getLogger("gcsfs").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="lm-remote-") as tmp:
        root = Path(tmp)
        make_images(root / "data", args.n)
        name = make_manifest(root / "data", args.n).name

        def local() -> tuple[str, None]:
            return str(root / "data" / name), None

        def gcs() -> tuple[str, object]:
            store = fake_gcs()
            bucket = store.__enter__()
            upload(root / "data", f"{bucket}/data")
            return f"{bucket}/data/{name}", store

        server = FaultyServer(root / "data", Faults(error_rate=args.error_rate, spare=(name,)))

        def http() -> tuple[str, object]:
            return f"{server.__enter__().url}/{name}", server

        sources = {"local": local, "gcs": gcs, "http": http}
        results = {key: measure(key, fn, args.n, root) for key, fn in sources.items()}
        same = {key: shards(root / f"out-{key}") == shards(root / "out-local") for key in sources}
    base = results["local"]["rate"]
    print(f"{args.n} samples, output on local disk, one in-process worker")
    for name, r in results.items():
        print(
            f"  {name:6s} {r['rate']:8.0f} samples/s  {r['rate'] / base:5.2f}x local"
            f"  retries {r['retries']}"
        )
    injected, retried = server.counts["500"], results["http"]["retries"]
    print(f"  http: {injected} injected 500s, {retried} retries, 0 samples lost")
    print(f"  shards identical to local: gcs {same['gcs']}, http {same['http']}")


if __name__ == "__main__":
    main()
