"""HTML building blocks of the audit page: inline CSS, number formatting, rates, tables, tiles,
figures, sections. The page is one self-contained file (inline CSS, embedded images, no scripts).

A number that cannot be computed is shown as "n/a" with its reason, never as 0 or a dash alone; a
rate always carries its n and 95% interval, and one resting on fewer than the minimum support is
greyed and flagged, so a reader cannot mistake 1 of 1 for a measured 100%.
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
.card small{display:block;color:#5a6478;font-size:12px;max-width:220px}
.card.na b{color:#8a94a6}.low,.card.low b{color:#8a94a6}
.flag{color:#b26a00;font-size:12px;font-weight:600;white-space:nowrap}
tr.low td{color:#8a94a6;background:#fafbfc}
.na{color:#8a94a6;font-style:italic}
.thumbs{display:flex;gap:6px;align-items:flex-start}.thumbs img{border:1px solid #e4e8f0}
.legend span{display:inline-block;margin-right:10px;font-size:12.5px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
nav ul{columns:3;margin:6px 0;padding-left:18px}
.ok{color:#2e7d32;font-weight:600}.no{color:#8a6d00;font-weight:600}
.absent{background:#fff8e1;border-left:4px solid #f9a825;padding:8px 12px;margin:8px 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13.5px}
th,td{border-bottom:1px solid #e4e8f0;padding:4px 10px;text-align:left;vertical-align:top;
 max-width:420px;overflow-wrap:break-word}
th{white-space:nowrap}.rate{white-space:nowrap}
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
    """A number as shown: None is n/a, shares as percentages, floats to 3 decimals."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if percent:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


class Low(list):  # type: ignore[type-arg]
    """A table row whose figures rest on too few samples: rendered grey, with a flag."""


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = ROWS, total: int = 0
) -> str:
    """A table; numeric cells right-aligned. Cells are escaped unless wrapped in `Html`; rows
    wrapped in `Low` are greyed."""
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
        body.append(
            ("<tr class='low'>" if isinstance(row, Low) else "<tr>") + "".join(cells) + "</tr>"
        )
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    more = max(total, len(rows)) - min(limit, len(rows))
    note = f'<p class="more">{more:,} more rows in metrics.json</p>' if more > 0 else ""
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>{note}'


class Html(str):
    """Markup that a table cell must not escape."""


def pct(value: float | None) -> Html:
    return Html(f'<span class="n">{num(value, percent=True)}</span>')


def highlight(sentence: str, mention: str) -> str:
    """The sentence escaped, its first occurrence of `mention` marked."""
    text, marked = escape(sentence), escape(mention)
    return text.replace(marked, f"<mark>{marked}</mark>", 1) if marked and marked in text else text


def flag(min_support: int) -> str:
    return (
        f"<span class='flag' title='fewer than {min_support} samples'>⚑ n&lt;{min_support}</span>"
    )


def bound(share: float) -> str:
    """An interval bound in percent: whole numbers (the interval is the message, not the
    decimals), one decimal below 10%."""
    value = 100 * share
    return f"{value:.0f}" if value >= 9.5 or value == 0 else f"{value:.1f}"


def rate_html(r: dict[str, Any] | None, reason: str = "") -> Html:
    """A rate as "75.0% [30.1–95.4] n=4": value, Wilson interval and n; n/a with the reason
    when n is 0; grey and flagged when `low_support`."""
    if r is None or r["rate"] is None:
        why = f": {escape(reason)}" if reason else ""
        return Html(f"<span class='na'>n/a{why}</span>")
    lo, hi = r["ci95"]
    text = (
        f'<span class="n">{100 * r["rate"]:.1f}%</span> '
        f'<span class="more">[{bound(lo)}–{bound(hi)}] n={r["n"]:,}</span>'
    )
    if r.get("low_support"):
        text = f"<span class='low'>{text}</span> <span class='flag'>⚑</span>"
    return Html(f"<span class='rate'>{text}</span>")


def value_ci(value: float | None, ci: list[float] | None, reason: str = "") -> Html:
    """A non-rate estimate (kappa, F1, a learned sensitivity) with its interval, or n/a."""
    if value is None:
        return Html(f"<span class='na'>n/a{': ' + escape(reason) if reason else ''}</span>")
    more = f" <span class='more'>[{ci[0]:.3f}, {ci[1]:.3f}]</span>" if ci else ""
    return Html(f"{value:.3f}{more}")


def tile(metric: str, value: str, caption: str, note: str = "", kind: str = "") -> str:
    """A headline tile; `data-metric` names the metrics.json path of its number (the browser
    test checks that the two agree)."""
    css = f"card {kind}".strip()
    small = f"<small>{note}</small>" if note else ""
    return (
        f"<div class='{css}' data-metric='{escape(metric)}'><b>{value}</b>"
        f"<span>{escape(caption)}</span>{small}</div>"
    )


def img(uri: str | None, alt: str, width: int | None = None) -> str:
    if not uri:
        return ""
    size = f' width="{width}"' if width else ""
    return f'<img src="{uri}" alt="{escape(alt)}" loading="lazy"{size}>'


def absent(text: str) -> str:
    return f'<p class="absent">{text}</p>'


def figure(figs: dict[str, str], name: str, alt: str) -> str:
    uri = figs.get(name)
    return f"<figure>{img(uri, alt)}</figure>" if uri else ""


def section(anchor: str, title: str, lead: str, body: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{escape(title)}</h2><p class="sub">{lead}</p>{body}</section>'
    )
