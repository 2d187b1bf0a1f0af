"""Remote reads against a local server that fails on purpose: what is retried, what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelmill import fetch
from labelmill.fetch import FetchError, FetchOptions, is_transient, read_remote, read_url
from labelmill.schemas.records import Reason, RejectError, Stage
from labelmill.testing.http_server import Faults, FaultyServer

FAST = FetchOptions(retries=2, backoff=0.01, timeout=0.5)


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    for i in range(40):
        (tmp_path / f"f{i:02d}.bin").write_bytes(bytes([i]) * (1000 + i))
    return tmp_path


def _read_all(server: FaultyServer, options: FetchOptions = FAST) -> None:
    for i in range(40):
        assert read_remote(f"{server.url}/f{i:02d}.bin", options) == bytes([i]) * (1000 + i)


@pytest.mark.parametrize(
    "faults",
    [Faults(error_rate=0.5), Faults(reset_rate=0.5), Faults(slow_rate=0.3, slow_seconds=1.0)],
    ids=["500", "reset", "slow"],
)
def test_transient_failures_are_retried_until_the_bytes_arrive(files: Path, faults) -> None:
    before = fetch.STATS.retries
    with FaultyServer(files, faults) as server:
        _read_all(server)
    injected = sum(server.counts[k] for k in ("500", "reset", "slow"))
    assert injected >= 5  # the fault plan really fired
    assert server.counts["requests"] == 40 + injected  # one retry per injected fault
    assert fetch.STATS.retries - before == injected


def test_a_file_that_keeps_failing_is_given_up_after_the_last_retry(files: Path) -> None:
    with FaultyServer(files, Faults(always_fail=("f03.bin",))) as server:
        url = f"{server.url}/f03.bin"
        with pytest.raises(RejectError) as caught:
            read_url(url, Stage.IMAGE, Reason.FILE_NOT_FOUND, FAST)
    assert caught.value.reason == Reason.FETCH_FAILED
    assert url in caught.value.detail and "503" in caught.value.detail
    assert "after 3 attempts" in caught.value.detail
    assert server.counts["requests"] == 3


def test_not_found_is_not_retried(files: Path) -> None:
    with FaultyServer(files) as server:
        with pytest.raises(RejectError) as caught:
            read_url(f"{server.url}/nope.bin", Stage.REPORT, Reason.REPORT_NOT_FOUND, FAST)
    assert caught.value.reason == Reason.REPORT_NOT_FOUND
    assert server.counts["requests"] == 1


def test_size_cap_and_user_agent(files: Path) -> None:
    options = FetchOptions(retries=2, max_bytes=500, user_agent="crawler/1.0 (me@example.org)")
    with FaultyServer(files) as server:
        with pytest.raises(FetchError) as caught:
            read_remote(f"{server.url}/f01.bin", options)
    assert caught.value.kind == "too_large"
    assert server.counts["requests"] == 1
    assert server.user_agents == {"crawler/1.0 (me@example.org)"}


def test_backoff_doubles_up_to_its_cap() -> None:
    options = FetchOptions(backoff=0.5, max_backoff=3.0)
    assert [options.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        FetchOptions(retries=-1)


class _HttpError(OSError):
    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (_HttpError(503), True),
        (_HttpError(429), True),
        (_HttpError(403), False),
        (ConnectionResetError("reset by peer"), True),
        (TimeoutError("read timed out"), True),
        (FileNotFoundError("gone"), False),
        (ValueError("bad"), False),
    ],
)
def test_which_errors_are_transient(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_a_cause_decides_for_a_wrapping_error() -> None:
    try:
        try:
            raise _HttpError(502)
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
