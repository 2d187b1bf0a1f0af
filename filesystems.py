"""Check, before any work, that a file system is installed for every protocol a build uses.

Without this a `gs://` manifest ends in a long traceback from deep inside fsspec, and image
URLs without their package reject every row one by one. The manifest and the output are
checked by URL; image and report protocols are taken from the first rows of the manifest
(a fixed number, so the check costs the same at 1e3 and 1e9 rows). A protocol that first
appears later still fails its shard with the same error (see `pipelines/load.py`), never a
reject per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import fsspec

from labelmill.extras import MissingExtraError, as_missing_extra, extra_for, require
from labelmill.schemas.config import BuildConfig
from labelmill.schemas.records import InputRow

PEEK_ROWS = 1000  # manifest rows whose image and report URLs are checked up front
# protocol -> the package of its file system (extras.py says which extra installs it)
PROTOCOL_PACKAGES = {"gs": "gcsfs", "gcs": "gcsfs", "s3": "s3fs", "s3a": "s3fs",
                     "http": "aiohttp", "https": "aiohttp"}
# http(s) images are fetched with requests (fetch.py); manifests over http use fsspec's aiohttp
_ALSO_NEEDED = {"http": "requests", "https": "requests"}


def protocol(url: str) -> str:
    """The URL's scheme, lower case; "file" for a plain path."""
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def require_protocol(proto: str, needed_for: str) -> None:
    """Import the file system of `proto`, or raise one clear error naming the extra."""
    try:
        fsspec.get_filesystem_class(proto)
    except ImportError as exc:
        error = as_missing_extra(exc, needed_for)
        extra = extra_for(PROTOCOL_PACKAGES.get(proto, ""))
        if isinstance(error, MissingExtraError) or extra is None:
            raise error from exc
        raise MissingExtraError(PROTOCOL_PACKAGES[proto], extra, needed_for) from exc
    except ValueError as exc:  # fsspec's "Protocol not known"
        raise ValueError(f"{needed_for}: no file system knows the protocol {proto!r}") from exc
    if proto in _ALSO_NEEDED:
        require(_ALSO_NEEDED[proto], needed_for)


def require_filesystems(urls: Iterable[str], what: str) -> set[str]:
    """Check every distinct protocol among `urls` once; returns the protocols seen."""
    seen: set[str] = set()
    for url in urls:
        proto = protocol(url)
        if proto not in seen:
            seen.add(proto)
            require_protocol(proto, f"{what} {url}")
    return seen


def check_build_filesystems(config: BuildConfig) -> set[str]:
    """The protocols of a build's manifest, output, and its first rows' images and reports."""
    from labelmill.manifests.read import iter_inputs

    seen = require_filesystems([config.input], "the input")
    seen |= require_filesystems([config.output], "the output")

    def row_urls() -> Iterable[str]:
        for row in islice(iter_inputs(config.input, config.manifest_encoding), PEEK_ROWS):
            if isinstance(row, InputRow):
                yield from (row.resolve(p) for p in (row.image, row.report_path) if p)

    return seen | require_filesystems(row_urls(), "the file")
