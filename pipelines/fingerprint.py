"""Fingerprints that tell a resumed build whether a finished shard may be kept.

A shard is kept only when everything that decides its bytes is unchanged: the config, the
content of the ontology and model files it names, labelmill's own version, report-engine
version and shipped data files (built-in ontologies, the crosswalk, language files), the
harmonized mapping, the build's image format, the shard's rows as parsed, and every image and
report file the rows point at. Files are identified by a cheap signature that any content change
alters (local: size, mtime in nanoseconds and inode; object stores: size and the store's etag,
generation or checksum), taken on the worker that owns the shard, so the launcher never touches
a row.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from typing import Any

import fsspec

from labelmill.fileio import file_digest
from labelmill.schemas.config import NOT_DECISIVE, BuildConfig
from labelmill.schemas.records import InputRow, Reject

# Object-store fields that change whenever an object's content does.
_VERSION_FIELDS = ("etag", "ETag", "generation", "md5Hash", "crc32c", "mtime", "LastModified")
REMOTE_THREADS = 16


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _local_tree_digest(path: str) -> str:
    """sha256 over a file's bytes, or over a folder's files (relative names and bytes)."""
    if os.path.isfile(path):
        return file_digest(path)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(f"{os.path.relpath(full, path)}\t{file_digest(full)}\n".encode())
    return digest.hexdigest()


def referenced_files(value: Any) -> Iterable[str]:
    """Option values (nested) that name an existing local file or folder, after a spec
    prefix such as `hf:` or `arch:NAME@`: ontologies, weights, model folders."""
    if isinstance(value, dict):
        for item in value.values():
            yield from referenced_files(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from referenced_files(item)
    elif isinstance(value, str) and value:
        for candidate in (value, value.split(":", 1)[-1], value.rsplit("@", 1)[-1]):
            if os.path.exists(candidate):
                yield os.path.abspath(candidate)
                break


def config_fingerprint(config: BuildConfig) -> str:
    """Hash of the config (not where the output goes) and of the files it names, by content."""
    options = [spec.options for spec in config.labelers]
    options += [config.harmonize or {}, config.aggregate or {}]
    files = sorted(set(referenced_files(options)))
    skipped = ("input", *NOT_DECISIVE)
    decisive = {k: v for k, v in config.to_json().items() if k not in skipped}
    decisive["files"] = {path: _local_tree_digest(path) for path in files}
    decisive["labelmill"] = own_digest()
    return _digest(decisive)


@lru_cache(maxsize=1)
def own_digest() -> dict[str, str]:
    """labelmill's version, its report engine's, and sha256 over its shipped YAML data, so
    that an upgrade that changes what a shard holds never keeps an older shard."""
    from labelmill import __version__
    from labelmill.labelers.reports.engine import ENGINE_VERSION

    digest = hashlib.sha256()
    for package in ("labelmill.ontologies", "labelmill.labelers.reports.lang"):
        folder = resources.files(package)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                digest.update(f"{package}/{entry.name}\n".encode() + entry.read_bytes())
    return {"version": __version__, "engine": ENGINE_VERSION, "data": digest.hexdigest()}


def file_signature(url: str) -> str:
    """A signature of one file that changes whenever its content does; "missing" if absent."""
    if "://" not in url:
        try:
            stat = os.stat(url)
        except OSError:
            return "missing"
        return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    fs, path = fsspec.core.url_to_fs(url)
    try:
        info = fs.info(path)
    except (OSError, ValueError):
        return "missing"
    versions = [str(info[k]) for k in _VERSION_FIELDS if info.get(k) is not None]
    return ":".join([str(info.get("size")), *versions])


def _row_files(row: InputRow) -> list[str]:
    paths = [row.image] if row.image else []
    if row.report is None and row.report_path:
        paths.append(row.report_path)
    return [row.resolve(p) for p in paths]


def shard_fingerprint(
    context: str, rows: Sequence[tuple[InputRow, str]], rejects: Sequence[Reject]
) -> str:
    """Hash of a shard's inputs: `context` (config, mapping, image format), its rows as parsed,
    their manifest rejects, and the signature of every file the rows read."""
    urls = [url for row, _ in rows for url in _row_files(row)]
    if any("://" in url for url in urls):
        with ThreadPoolExecutor(REMOTE_THREADS) as pool:  # one metadata call per file
            signatures = list(pool.map(file_signature, urls))
    else:
        signatures = [file_signature(url) for url in urls]
    digest = hashlib.sha256(context.encode())
    for row, key in rows:
        fields = [row.row, row.id, key, row.image, row.report, row.report_path, row.labels]
        digest.update(_digest([*fields, row.meta, row.base]).encode())
    digest.update(_digest([r.to_json() for r in rejects]).encode())
    digest.update("\n".join(signatures).encode())
    return digest.hexdigest()
