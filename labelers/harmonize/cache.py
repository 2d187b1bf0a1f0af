"""Disk cache of harmonization decisions, so that a rerun costs no model call.

One JSON file per configuration: its name hashes everything that can change an answer (ontology
hash, models, prompt version, thresholds), and inside it decisions are keyed by the raw string.
Writes merge with what is on disk and replace the file atomically, so a crash or a concurrent
run never leaves a torn file. JSON rather than pickle: the cache is data, never code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class DecisionCache:
    """Raw string -> decision (as JSON) for one configuration, stored under `cache_dir`."""

    def __init__(self, cache_dir: str | Path, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        payload = json.dumps(self.config, sort_keys=True, ensure_ascii=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / f"harmonize-{digest}.json"

    def load(self) -> dict[str, dict[str, Any]]:
        """Every cached decision; an unreadable or foreign file counts as empty."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return {}
        if not isinstance(data, dict) or data.get("config") != self.config:
            return {}
        decisions = data.get("decisions")
        return decisions if isinstance(decisions, dict) else {}

    def update(self, decisions: Mapping[str, dict[str, Any]]) -> None:
        """Merge `decisions` into the file, then swap it in with one rename."""
        if not decisions:
            return
        merged = {**self.load(), **decisions}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"config": self.config, "decisions": dict(sorted(merged.items()))}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".harmonize-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, ensure_ascii=False, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
