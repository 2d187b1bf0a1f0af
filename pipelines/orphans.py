"""Make Beam's worker processes exit when the launcher that started them dies.

With `--direct_running_mode multi_processing` the workers are child processes of the launcher;
a launcher killed with SIGKILL leaves them running (holding files, CPU and memory) because they
only notice on their next request. The launcher records its pid in the environment its workers
inherit; a worker whose parent is that launcher watches it and exits once it is gone. In-process
runs and remote workers (Dataflow) never see their parent match, so nothing is watched there.
"""

from __future__ import annotations

import os
import threading
import time

LAUNCHER_ENV = "LABELMILL_LAUNCHER_PID"
POLL_S = 1.0
_watching = threading.Event()


def mark_launcher() -> None:
    """Called by the launcher before it starts workers."""
    os.environ[LAUNCHER_ENV] = str(os.getpid())


def watch_launcher() -> None:
    """In a worker whose parent is the launcher, exit as soon as the launcher is gone."""
    launcher = os.environ.get(LAUNCHER_ENV, "")
    if _watching.is_set() or not launcher.isdigit() or os.getppid() != int(launcher):
        return
    _watching.set()

    def watch() -> None:
        while os.getppid() == int(launcher):
            time.sleep(POLL_S)
        os._exit(3)  # reparented: the launcher was killed; nothing here is worth finishing

    threading.Thread(target=watch, name="labelmill-launcher-watch", daemon=True).start()
