"""What `labelmill build` prints after the summary table: where the shards are (as the brace
pattern webdataset and wids take) and which label strings harmonization could not place."""

from __future__ import annotations

import os
from typing import Any

MAX_LISTED = 20


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 sample`, `2 samples`, `0 samples`."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def shard_pattern(output: str, name: str, count: int) -> str:
    """`OUT/shards/shard-{000000..000011}.tar` (absolute for local outputs; one name if one)."""
    root = output if "://" in output else os.path.abspath(output)
    span = f"{0:06d}" if count == 1 else f"{{{0:06d}..{count - 1:06d}}}"
    return f"{root.rstrip('/')}/shards/{name}-{span}.tar"


def unmapped_lines(harmonize: dict[str, Any] | None) -> list[str]:
    """One line per label string left unmapped, with its reason (strings shown escaped: they
    come from the manifest and must not reach the terminal as control sequences)."""
    if not harmonize:
        return []
    unmapped = [d for d in harmonize.get("decisions", []) if d.get("label") is None]
    if not unmapped:
        return []
    lines = [f"unmapped label strings ({len(unmapped):,}), kept as evidence only:"]
    for decision in unmapped[:MAX_LISTED]:
        reason = decision.get("reason") or decision.get("method") or ""
        lines.append(f"  {decision['raw']!r}" + (f"  ({reason})" if reason else ""))
    if len(unmapped) > MAX_LISTED:
        lines.append(f"  ... and {len(unmapped) - MAX_LISTED:,} more in run.json")
    return lines


def closing_lines(summary: dict[str, Any]) -> list[str]:
    """The lines after the table: counts in words, the shard pattern, unmapped strings."""
    config, counts = summary["config"], summary["counts"]
    shards = summary["shards"]
    lines = [
        f"wrote {plural(counts['written'], 'sample')} in {plural(len(shards), 'shard')}, "
        f"rejected {plural(counts['rejected'], 'input')} (see rejects/)"
    ]
    if shards:
        lines.append(f"shards: {shard_pattern(config['output'], config['name'], len(shards))}")
    lines += unmapped_lines(summary.get("harmonize"))
    return lines
