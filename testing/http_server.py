"""A local file server that fails on purpose: 500s, connections reset mid-body, stalled replies.

Tests and the remote-read benchmark point a build at it (on 127.0.0.1 only) to check that
transient failures cost retries, not samples. Which files fail is decided by a hash of the
path, so a run is repeatable; each chosen file fails on its first request only, unless listed
in `always_fail`.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Faults:
    """Fractions of files whose first request fails, by kind; and files that always fail."""

    error_rate: float = 0.0  # answered 500
    reset_rate: float = 0.0  # half the body, then a TCP reset
    slow_rate: float = 0.0  # the reply stalls for `slow_seconds`
    slow_seconds: float = 2.0
    always_fail: tuple[str, ...] = ()  # paths answered 503 on every request
    spare: tuple[str, ...] = ()  # paths that never fail (a manifest read without retries)

    def first_fault(self, path: str) -> str | None:
        if path in self.spare:
            return None
        draw = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) / 2**32
        for kind, rate in (("500", self.error_rate), ("reset", self.reset_rate)):
            if draw < rate:
                return kind
            draw -= rate
        return "slow" if draw < self.slow_rate else None


class FaultyServer(ThreadingHTTPServer):
    """Serves files under `root`; counts requests and injected faults."""

    daemon_threads = True

    def __init__(self, root: Path, faults: Faults = Faults()) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root, self.faults = root.resolve(), faults
        self.counts: Counter[str] = Counter()
        self.user_agents: set[str] = set()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FaultyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def fault_for(self, path: str, agent: str) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            self.user_agents.add(agent)
            if path in self.faults.always_fail:
                fault = "always"
            elif path in self._seen:
                fault = None
            else:
                self._seen.add(path)
                fault = self.faults.first_fault(path)
            if fault:
                self.counts[fault] += 1
            return fault

    def handle_error(self, request: object, client_address: object) -> None:
        """Broken pipes after a reset or a stall are the point, not an error to print."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultyServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: thousands of requests per benchmark run."""

    def _file(self) -> Path | None:
        path = self.path.split("?", 1)[0].lstrip("/")
        file = (self.server.root / path).resolve()
        ok = file.is_relative_to(self.server.root) and file.is_file()
        return file if ok else None

    def do_HEAD(self) -> None:
        file = self._file()
        self._headers(200 if file else 404, file.stat().st_size if file else 0)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].lstrip("/")
        fault = self.server.fault_for(path, self.headers.get("User-Agent", ""))
        if fault in ("500", "always"):
            return self._reply(500 if fault == "500" else 503, b"injected failure")
        file = self._file()
        if file is None:
            return self._reply(404, b"not found")
        body = file.read_bytes()
        if ranged := _byte_range(self.headers.get("Range", ""), len(body)):
            start, end = ranged
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
            self.send_header("Content-Length", str(end - start))
            self.end_headers()
            self.wfile.write(body[start:end])
            return None
        if fault == "slow":
            time.sleep(self.server.faults.slow_seconds)
        if fault == "reset":
            self._headers(200, len(body))
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            linger = struct.pack("ii", 1, 0)  # close with RST, not FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.close_connection = True
            self.connection.close()
            return None
        return self._reply(200, body)

    def _headers(self, status: int, length: int) -> None:
        self.send_response(status)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _reply(self, status: int, body: bytes) -> None:
        self._headers(status, len(body))
        self.wfile.write(body)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) of a single `bytes=a-b` range header, clipped to the file; None for none."""
    if not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    if not first:
        return max(0, size - int(last)), size
    return int(first), min(size, int(last) + 1) if last else size
