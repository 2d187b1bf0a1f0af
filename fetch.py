"""Remote reads that survive the network: bounded retries with backoff, a timeout and a size cap.

Object stores and web servers fail now and then (a 503, a reset connection, a stalled read);
one such failure must cost a retry, not a sample. Each file is tried `1 + retries` times with
exponential backoff on transient errors only (5xx, 408, 429, resets, timeouts). A missing file
(404, 410, or the store's not-found) is never retried. `http(s)://` URLs are fetched with
`requests` (a per-request deadline, a size cap, a user agent: the img2dataset use case); every
other protocol goes through its fsspec file system.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any

import fsspec

from labelmill import __version__
from labelmill.extras import require
from labelmill.filesystems import protocol, require_protocol
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import Reason, RejectError

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
NOT_FOUND_STATUS = frozenset({404, 410})
# Exception type names of the HTTP stacks (requests/urllib3, aiohttp, botocore) that mean the
# connection broke or stalled; matched by name so that no stack has to be imported to check.
_TRANSIENT_NAMES = ("Timeout", "Connection", "ChunkedEncoding", "IncompleteRead",
                    "ProtocolError", "ServerDisconnected", "ClientPayload", "ResponseStream")


@dataclass(frozen=True)
class FetchOptions:
    """How remote files are read; none of it changes the bytes of a build."""

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 60.0
    max_bytes: int = 256 << 20
    user_agent: str = f"labelmill/{__version__}"

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.timeout <= 0 or self.max_bytes < 1:
            raise ValueError("retries and backoff must be >= 0, timeout and max_bytes positive")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))


DEFAULT_FETCH = FetchOptions()


def fetch_options(config: BuildConfig) -> FetchOptions:
    """The build config's fetch settings (the size cap stays FetchOptions' own)."""
    agent = {"user_agent": config.user_agent} if config.user_agent else {}
    return FetchOptions(retries=config.fetch_retries, timeout=config.fetch_timeout, **agent)


class FetchError(Exception):
    """A file that could not be read: `kind` is "not_found", "too_large" or "failed"."""

    def __init__(self, url: str, kind: str, detail: str) -> None:
        super().__init__(f"{url}: {detail}")
        self.url, self.kind, self.detail = url, kind, detail


class _Status(OSError):
    """An HTTP response that is not a success."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


class _TooLarge(Exception):
    pass


class RetryStats:
    """Retries made by this process (thread-safe); the benchmark and the logs read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retries = 0
        self.failures = 0

    def add(self, retries: int = 0, failures: int = 0) -> None:
        with self._lock:
            self.retries += retries
            self.failures += failures


STATS = RetryStats()


def _status_of(exc: BaseException) -> int | None:
    for attr in ("status", "code", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying: a 5xx/408/429 status, a reset, a stalled or cut-off read."""
    for link in _chain(exc):
        if isinstance(link, FileNotFoundError | PermissionError | IsADirectoryError | _TooLarge):
            return False
        status = _status_of(link)
        if status is not None:
            return status in TRANSIENT_STATUS
        if isinstance(link, ConnectionError | TimeoutError):
            return True
        if any(name in type(link).__name__ for name in _TRANSIENT_NAMES):
            return True
    return False


def _is_not_found(exc: BaseException) -> bool:
    return any(
        isinstance(link, FileNotFoundError) or _status_of(link) in NOT_FOUND_STATUS
        for link in _chain(exc)
    )


_local = threading.local()


def _session() -> Any:
    """One requests session per thread (connection reuse; sessions are not thread-safe)."""
    if getattr(_local, "session", None) is None:
        _local.session = require("requests", "reading http(s):// URLs").Session()
    return _local.session


def _read_http(url: str, options: FetchOptions) -> bytes:
    deadline = time.monotonic() + options.timeout
    headers = {"User-Agent": options.user_agent}
    with _session().get(url, headers=headers, timeout=options.timeout, stream=True) as resp:
        if resp.status_code >= 400:
            raise _Status(resp.status_code, resp.reason or "")
        declared = int(resp.headers.get("Content-Length") or 0)
        if declared > options.max_bytes:
            raise _TooLarge(f"declares {declared} bytes, over max_bytes={options.max_bytes}")
        parts, total = [], 0
        for chunk in resp.iter_content(1 << 16):
            total += len(chunk)
            if total > options.max_bytes:
                raise _TooLarge(f"over max_bytes={options.max_bytes}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"read not finished after {options.timeout:g} s")
            parts.append(chunk)
        if declared and total != declared and "Content-Encoding" not in resp.headers:
            raise ConnectionError(f"IncompleteRead: {total} of {declared} bytes")
        return b"".join(parts)


def _read_fsspec(url: str, options: FetchOptions) -> bytes:
    """One ranged GET, capped: `fsspec.open` would first ask the store for the object's size."""
    fs, path = fsspec.core.url_to_fs(url)
    data = fs.cat_file(path, start=0, end=options.max_bytes + 1)
    if len(data) > options.max_bytes:
        raise _TooLarge(f"over max_bytes={options.max_bytes}")
    return data


@functools.cache
def _checked(proto: str) -> None:
    """A protocol's file system, imported once per process; a missing one raises
    MissingExtraError, which fails the shard instead of rejecting its rows one by one."""
    require_protocol(proto, f"reading {proto}:// files")


def read_remote(url: str, options: FetchOptions = DEFAULT_FETCH) -> bytes:
    """The bytes at `url`, retrying transient failures; raises FetchError after the last try."""
    proto = protocol(url)
    _checked(proto)
    reader = _read_http if proto in ("http", "https") else _read_fsspec
    attempt = 0
    while True:
        try:
            return reader(url, options)
        except Exception as exc:
            if _is_not_found(exc):
                raise FetchError(url, "not_found", "no such file") from exc
            if isinstance(exc, _TooLarge):
                raise FetchError(url, "too_large", str(exc)) from exc
            attempt += 1
            if not is_transient(exc) or attempt > options.retries:
                STATS.add(failures=1)
                tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                raise FetchError(url, "failed", f"{type(exc).__name__}: {exc}{tries}") from exc
            STATS.add(retries=1)
            time.sleep(options.delay(attempt))


_REASONS = {"too_large": Reason.FILE_TOO_LARGE, "failed": Reason.FETCH_FAILED}


def read_url(url: str, stage: str, missing: str, options: FetchOptions = DEFAULT_FETCH) -> bytes:
    """`read_remote` for a sample's file: a failure rejects the sample, naming URL and error;
    a missing file is rejected with `missing` (file_not_found, report_not_found)."""
    try:
        return read_remote(url, options)
    except FetchError as exc:
        raise RejectError(stage, _REASONS.get(exc.kind, missing), str(exc)) from exc
