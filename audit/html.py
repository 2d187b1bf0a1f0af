"""HTML building blocks of the audit page: inline CSS, number formatting, tables, figures,
sections. The page is one self-contained file (inline CSS, embedded PNGs, no scripts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

ROWS = 25  # rows of a long table shown on the page; metrics.json has all
STATUS = {1: "positive", 0: "negative", -1: "uncertain"}

CSS = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
 margin:0;background:#f4f6fa}
main{max-width:1180px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:28px;margin:0 0 4px}h2{font-size:21px;margin:0 0 8px;padding-top:4px}
h3{font-size:16px;margin:18px 0 6px}
section{background:#fff;border:1px solid #dde2ec;border-radius:8px;padding:18px 22px;margin:18px 0}
.sub{color:#5a6478;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{background:#fff;border:1px solid #dde2ec;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:22px}.card span{color:#5a6478;font-size:13px}
nav ul{columns:3;margin:6px 0;padding-left:18px}
.ok{color:#2e7d32;font-weight:600}.no{color:#8a6d00;font-weight:600}
.absent{background:#fff8e1;border-left:4px solid #f9a825;padding:8px 12px;margin:8px 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13.5px}
th,td{border-bottom:1px solid #e4e8f0;padding:4px 10px;text-align:left;vertical-align:top;
 max-width:420px;overflow-wrap:anywhere}
th{background:#eef1f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.more{color:#5a6478;font-size:13px}
figure{margin:8px 0;display:inline-block;vertical-align:top}
figure img{max-width:100%;height:auto;border:1px solid #e4e8f0;border-radius:4px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px;
 align-items:start}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.gallery img{width:100%}
mark{background:#ffe08a}
code{background:#eef1f7;padding:1px 4px;border-radius:3px;font-size:13px}
details{margin:6px 0}summary{cursor:pointer;color:#1565c0}
pre{background:#f6f8fb;border:1px solid #e4e8f0;padding:8px;overflow-x:auto;font-size:12.5px}
"""


def num(value: Any, percent: bool = False) -> str:
    """A number as shown: None is a dash, shares as percentages, floats to 3 decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if percent:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = ROWS, total: int = 0
) -> str:
    """A table; numeric cells right-aligned. Cells are escaped unless wrapped in `Html`."""
    body = []
    rows = list(rows)
    for row in rows[:limit]:
        cells = []
        for cell in row:
            if isinstance(cell, Html):
                cells.append(f"<td>{cell}</td>")
            elif isinstance(cell, int | float) and not isinstance(cell, bool):
                cells.append(f'<td class="n">{num(cell)}</td>')
            else:
                cells.append(f"<td>{num(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    more = max(total, len(rows)) - min(limit, len(rows))
    note = f'<p class="more">{more:,} more rows in metrics.json</p>' if more > 0 else ""
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>{note}'


class Html(str):
    """Markup that a table cell must not escape."""


def pct(value: float | None) -> Html:
    return Html(f'<span class="n">{num(value, percent=True)}</span>')


def absent(text: str) -> str:
    return f'<p class="absent">{text}</p>'


def figure(figs: dict[str, str], name: str, alt: str) -> str:
    uri = figs.get(name)
    return f'<figure><img src="{uri}" alt="{escape(alt)}"></figure>' if uri else ""


def section(anchor: str, title: str, lead: str, body: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{escape(title)}</h2><p class="sub">{lead}</p>{body}</section>'
    )
