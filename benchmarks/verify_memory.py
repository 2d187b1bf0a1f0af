"""`labelmill verify` peak memory against N, beside loading the whole manifest (what verify did).

Writes synthetic builds of N samples (a tiny PNG, a JSON document and a report each, manifest
rows about 1.5 KB like a labeled build's) straight through the shard writer, then runs, each in
its own process so that its max RSS is its own: `verify(DIR)`, and
`pq.read_table(manifest).to_pylist()`. Flat memory means the ratio of peak RSS at the largest N
to the smallest stays near 1.

    .venv/bin/python benchmarks/verify_memory.py [--n 2000 20000 60000] [--workdir /tmp/lm-vm]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

from labelmill.manifests.write import MANIFEST_SCHEMA, write_parquet_batches
from labelmill.pipelines.shards import open_shard

PER_SHARD = 1000
MEASURE = """
import resource, sys
if sys.argv[1] == "verify":
    from labelmill.pipelines.verify import verify
    assert verify(sys.argv[2]) == []
else:
    import pyarrow.parquet as pq
    rows = pq.read_table(sys.argv[2] + "/manifest").to_pylist()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def make_build(root: Path, n: int) -> Path:
    """Shards and a manifest written one shard at a time, so this process stays small (a child
    process's max RSS starts from its parent's on Linux)."""
    out = io.BytesIO()
    Image.new("L", (8, 8), 3).save(out, "PNG")
    png = out.getvalue()
    shards: list[dict] = []
    labels = json.dumps({f"source{s}": {f"Label{j}": j % 2 for j in range(14)} for s in range(4)})

    def shard_rows(start: int) -> list[dict]:
        name = f"shards/shard-{start // PER_SHARD:06d}.tar"
        batch = []
        with open_shard(str(root / name)) as writer:
            for i in range(start, min(n, start + PER_SHARD)):
                key = f"s{i:08d}"
                members = {
                    "json": json.dumps({"id": key, "key": key}).encode(),
                    "png": png,
                    "txt": f"No effusion {i}.".encode(),
                }
                sizes = writer.write(key, members)
                batch.append(
                    {
                        "key": key,
                        "id": key,
                        "row": i + 1,
                        "shard": name,
                        "members": list(sizes),
                        "member_sizes": list(sizes.values()),
                        "image_sha256": hashlib.sha256(png).hexdigest(),
                        "width": 8,
                        "height": 8,
                        "report_present": True,
                        "labels": labels,
                        "scores": labels,
                        "final": None,
                    }
                )
        shards.append(
            {
                "shard": name,
                "nsamples": len(batch),
                "size": writer.size,
                "sha256": writer.sha256,
                "md5": writer.md5,
            }
        )
        return batch

    batches = (shard_rows(start) for start in range(0, n, PER_SHARD))
    write_parquet_batches(str(root / "manifest" / "part-000000.parquet"), batches, MANIFEST_SCHEMA)
    run = {"shards": shards, "image_ext": "png", "counts": {"read": n, "written": n, "rejected": 0}}
    (root / "run.json").write_text(json.dumps(run))
    index = {"shardlist": [{"url": s["shard"], "md5sum": s["md5"]} for s in shards]}
    (root / "index.json").write_text(json.dumps(index))
    return root


def peak_mb(kind: str, build: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, kind, str(build)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 20000, 60000])
    parser.add_argument("--workdir", default="/tmp/lm-verify-memory")
    args = parser.parse_args()
    results = []
    for n in args.n:
        root = Path(args.workdir) / f"n{n}"
        shutil.rmtree(root, ignore_errors=True)
        build = make_build(root, n)
        results.append((n, peak_mb("verify", build), peak_mb("load-manifest", build)))
        shutil.rmtree(root)
        print(
            f"N={n:>7}: verify peak {results[-1][1]} MB;"
            f" whole-manifest load peak {results[-1][2]} MB",
            flush=True,
        )
    (n0, v0, m0), (n1, v1, m1) = results[0], results[-1]
    print(
        f"N {n0} -> {n1} ({n1 / n0:.0f}x): verify peak x{v1 / v0:.2f},"
        f" whole-manifest load x{m1 / m0:.2f}"
    )


if __name__ == "__main__":
    main()
