"""Checks of what the build's surroundings provide, before any work starts, each failing with
one line that names the problem: a manifest that is not a readable regular file, an output that
is a file or not writable, an `--llm` server that cannot be reached. Found later, each would
hang the fingerprint or surface from inside a Beam worker as a traceback, after minutes of
work. (The options themselves, the device included, are checked by `preflight`.)"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from labelmill.schemas.config import BuildConfig, ConfigError

CONNECT_TIMEOUT_S = 5.0


def check_output(output: str) -> None:
    """A local output must be a folder (or creatable as one) that this process can write."""
    if "://" in output:
        return  # object stores have no permissions to probe without writing
    path = os.path.abspath(output)
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        what = "is a file" if probe == path else f"is inside {probe}, which is a file"
        raise ConfigError(f"--output {output} {what}, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == path else f" (its nearest existing folder {probe} is not)"
        raise ConfigError(f"--output {output} is not writable by this user{where}")


def check_input(path: str) -> None:
    """A local manifest must be a readable regular file before anything hashes it (a FIFO would
    block the fingerprint forever); folders and URLs are checked when they are read."""
    if "://" in path or os.path.isdir(path):
        return
    import fsspec

    from labelmill.manifests.table_checks import check_readable

    fs, fs_path = fsspec.core.url_to_fs(path)
    check_readable(fs, fs_path, path)


def check_llm(config: BuildConfig) -> None:
    """An `--llm` URL must accept a TCP connection (the request itself is the harmonizer's)."""
    llm = str((config.harmonize or {}).get("llm") or "")
    if not llm.startswith(("http://", "https://")):
        return
    parts = urlsplit(llm)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(
            f"--llm {llm}: cannot connect to {parts.hostname}:{port} ({reason})"
        ) from exc


def check_site(config: BuildConfig) -> None:
    """Every check above, cheapest first."""
    check_input(config.input)
    check_output(config.output)
    check_llm(config)
