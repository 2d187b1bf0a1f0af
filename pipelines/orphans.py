"""Make Beam's worker processes exit when the launcher that started them dies.

With `--direct_running_mode multi_processing` the workers run under the launcher (through a
`sh -c`); a launcher killed with SIGKILL leaves them running, holding CPU and memory, since an
idle worker never notices. A killed process runs no code, so the launcher starts a small reaper
first: it marks the launcher's environment (inherited by every worker) with a token holding the
launcher's pid and start time, and once the launcher is gone it kills whatever still carries that
token. Remote workers (Dataflow) never carry it; a launcher that ends normally leaves nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

LAUNCHER_ENV = "LABELMILL_LAUNCHER"
POLL_S = 0.5


def _start_time(pid: int) -> str | None:
    """A live process's start time from /proc (None when it is gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if fields[0] != "Z" else None


def mark_launcher() -> None:
    """Called by the launcher before it starts workers; once per process."""
    started = _start_time(os.getpid())
    token = f"{os.getpid()}:{started}"
    if started is None or os.environ.get(LAUNCHER_ENV) == token:
        return
    os.environ[LAUNCHER_ENV] = token
    subprocess.Popen(
        [sys.executable, "-m", "labelmill.pipelines.orphans", token],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the launcher's group must not end the reaper first
        env={k: v for k, v in os.environ.items() if k != LAUNCHER_ENV},
    )


def carriers(token: str) -> list[int]:
    """The pids of processes whose environment holds the launcher's token."""
    needle = f"{LAUNCHER_ENV}={token}".encode()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    if needle in fh.read().split(b"\0"):
                        found.append(int(name))
            except OSError:
                continue
    return found


def reap(token: str) -> None:
    """Wait for the launcher to go, then kill what it left behind."""
    pid, _, started = token.partition(":")
    while _start_time(int(pid)) == started:
        time.sleep(POLL_S)
    for orphan in carriers(token):
        try:
            os.kill(orphan, signal.SIGKILL)
        except OSError:
            continue


if __name__ == "__main__":
    reap(sys.argv[1])
