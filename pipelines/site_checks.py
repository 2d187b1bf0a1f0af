"""Checks of what the build's surroundings provide, before any work starts, each failing with
one line that names the problem: a manifest that is not a readable regular file, or an output
that is a file or not writable. Found later, each would hang the fingerprint or surface as a
traceback. (The options themselves, the device and the `--llm` server included, are checked
by `preflight`.)"""

from __future__ import annotations

import os

from labelmill.schemas.config import BuildConfig, ConfigError


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


def check_site(config: BuildConfig) -> None:
    """Every check above, cheapest first."""
    check_input(config.input)
    check_output(config.output)
