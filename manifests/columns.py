"""Matching a table's header to the columns labelmill knows, and guessing its separator.

Manifests come from spreadsheets and other tools: `ID`, `Image Path`, `Findings`, separated by
`;` (a European Excel export) or tabs. Known columns match case-insensitively, any of them can be
renamed (`--id-col "Study ID"`), and a CSV's separator is read off its header line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SEPARATORS = (",", ";", "\t")


def detect_separator(header_line: str) -> str:
    """The separator among `,` `;` and tab that the header line uses most (`,` on a tie)."""
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


class ColumnMap:
    """Renames header names to the known column names they stand for.

    `columns` maps a known name to the header it has in this table (itself by default); matching
    ignores case and surrounding spaces. A header that is exactly a known name keeps it, so
    `id` beside `ID` leaves `ID` as metadata; a column named like a known one that was renamed
    away (`id` when `--id-col study`) is kept as metadata `id_unused`.
    """

    def __init__(self, columns: Mapping[str, str]) -> None:
        self.wanted = {header.strip().casefold(): name for name, header in columns.items()}
        self.moved = {name for name, header in columns.items() if header != name}

    def rename(self, names: Sequence[str]) -> list[str]:
        exact = set(names)
        out = []
        for name in names:
            known = self.wanted.get(str(name).strip().casefold())
            if known and (known == name or known not in exact or known in self.moved):
                out.append(known)
            else:
                out.append(f"{name}_unused" if name in self.moved else name)
        return out

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """One JSON record with its keys renamed."""
        return dict(zip(self.rename(list(record)), record.values(), strict=True))


def known_columns(names: Iterable[str], renamed: Mapping[str, str] | None) -> dict[str, str]:
    """Each known column name mapped to its header: the given renames, else itself."""
    given = dict(renamed or {})
    return {name: given.get(name, name) for name in names}
