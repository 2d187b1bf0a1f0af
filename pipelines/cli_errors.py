"""Turn any exception that reaches the command line into one line that names the problem.

Beam wraps a worker's exception in its own (with the worker's traceback in the message), so the
line is taken from the innermost cause; a full disk says that the build can resume once space is
freed (every file is written atomically, so what is on disk stays consistent). Set
LABELMILL_TRACEBACK=1 to see the traceback instead.
"""

from __future__ import annotations

import errno
import os

TRACEBACK_ENV = "LABELMILL_TRACEBACK"


def root_cause(exc: BaseException) -> BaseException:
    """The exception to report: the first of labelmill's own (their messages name the file and
    the problem), else the innermost cause behind the wrappers (Beam re-raises a worker's
    error as a RuntimeError raised while handling it)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__module__.startswith("labelmill"):
            return exc
        wrapper = type(exc) is RuntimeError or isinstance(exc, OSError)
        inner = exc.__cause__ or (exc.__context__ if wrapper else None)
        if inner is None:
            return exc
        exc = inner
    return exc


def one_line(exc: BaseException) -> str:
    """`exc` as one line for a user: what failed and on which file."""
    root = root_cause(exc)
    if isinstance(root, OSError) and root.errno == errno.ENOSPC:
        where = f" writing {root.filename}" if root.filename else ""
        return f"no space left on device{where}; free space and rerun to resume the build"
    if isinstance(root, OSError) and root.strerror:
        where = f": {root.filename}" if root.filename else ""
        return f"{root.strerror}{where}"
    lines = [line.strip() for line in str(root).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if text and type(root).__module__.startswith("labelmill"):
        return text  # our own errors' messages already name the file and the problem
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def show_traceback() -> bool:
    return os.environ.get(TRACEBACK_ENV, "") not in ("", "0")
