"""Sample keys for WebDataset members, derived from ids.

webdataset splits a member name at its first dot to find the sample key, and a tar reader
trusts member names as paths, so a key holds only `[A-Za-z0-9_-]`. An id that had to change
gets a short hash of the original appended, so that different ids rarely meet on one key;
when two still do, the build rejects the second instead of overwriting the first.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_KEY_LENGTH = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def make_key(sample_id: str) -> str:
    """Return the member-safe key for `sample_id`; raises ValueError for an empty id."""
    text = unicodedata.normalize("NFKC", sample_id).strip()
    if not text:
        raise ValueError("empty id")
    safe = _UNSAFE.sub("_", text).strip("_")
    if safe == sample_id and len(safe) <= MAX_KEY_LENGTH:
        return safe
    digest = hashlib.sha256(sample_id.encode("utf-8")).hexdigest()[:10]
    return f"{safe[: MAX_KEY_LENGTH - 11]}_{digest}" if safe else f"id_{digest}"


def is_safe_member_name(name: str) -> bool:
    """True when a tar member name cannot escape the folder it is extracted into."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))
