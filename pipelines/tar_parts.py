"""The tars of one shard: `NAME-000012.tar`, continued in `NAME-000012_001.tar`, ... whenever the
written bytes would pass `shard_max_bytes`.

The cut depends only on the bytes written, which depend only on the inputs and the config, so
it is as deterministic as the shards themselves; sorted by name, the tars keep input order.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from labelmill.pipelines.plan import Plan
from labelmill.pipelines.shards import BLOCK, ShardWriter, open_shard


class TarParts:
    """Write a shard's samples into one or more atomic tars; `stats` lists each one."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan, self.index = plan, index
        self.limit = plan.config.shard_max_bytes
        self.stats: list[dict[str, Any]] = []
        self._context: AbstractContextManager[ShardWriter] | None = None
        self._writer: ShardWriter | None = None
        self._name = ""

    def __enter__(self) -> TarParts:
        self._open()
        return self

    def _open(self) -> None:
        self._name = self.plan.shard_name(self.index, len(self.stats))
        self._context = open_shard(f"{self.plan.config.output}/{self._name}")
        self._writer = self._context.__enter__()

    def _close(self, *exc: Any) -> None:
        assert self._context is not None and self._writer is not None
        self._context.__exit__(*exc)
        if exc[0] is None:
            writer = self._writer
            self.stats.append(
                {
                    "shard": self._name,
                    "nsamples": writer.count,
                    "size": writer.size,
                    "sha256": writer.sha256,
                    "md5": writer.md5,
                }
            )
        self._context = self._writer = None

    def write(self, key: str, members: dict[str, bytes]) -> tuple[str, dict[str, int]]:
        """Write one sample; returns the tar it went to and its member sizes."""
        assert self._writer is not None
        size = sum(BLOCK + len(data) + (-len(data) % BLOCK) for data in members.values())
        if self.limit and self._writer.count and self._writer.size + size > self.limit:
            self._close(None, None, None)
            self._open()
        return self._name, self._writer.write(key, members)

    def __exit__(self, *exc: Any) -> None:
        self._close(*exc)
