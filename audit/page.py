"""Render the audit page: a header with the summary cards, then every section in order.

Every number shown comes from the metrics dict that is also written as metrics.json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from labelmill.audit.html import CSS, num, section
from labelmill.audit.sections import distribution, harmonization, labelers, mining, provenance
from labelmill.audit.sections_final import aggregation, gold, label_maps, suspects


def render(m: dict[str, Any], figs: dict[str, str]) -> str:
    """The whole page."""
    parts = [
        ("provenance", "Provenance", provenance),
        ("distribution", "Label distribution", distribution),
        ("labelers", "Labelers", labelers),
        ("report_mining", "Report mining", mining),
        ("harmonization", "Harmonization", harmonization),
        ("aggregation", "Aggregation", aggregation),
        ("gold", "Gold metrics", gold),
        ("label_maps", "Label maps", label_maps),
        ("suspects", "Suspect samples", suspects),
    ]
    body = [header(m, parts)]
    for anchor, title, fn in parts:
        lead, content = fn(m, figs)
        body.append(section(anchor, title, lead, content))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>labelmill audit: {escape(str(m['build']))}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


SectionFn = Callable[[dict[str, Any], dict[str, str]], tuple[str, str]]


def header(m: dict[str, Any], parts: Sequence[tuple[str, str, SectionFn]]) -> str:
    s = m["summary"]
    cards = [
        (num(s["samples"]), "samples written"),
        (num(s["read"]), "inputs read"),
        (num(s["rejected"]), "rejected"),
        (num(len(s["sources"])), "labelers"),
        (num(s["labels"]), "distinct labels"),
        (num(s["mean_pairwise_kappa"]), "mean pairwise kappa"),
        (num(s["samples_with_conflict"]), "samples with a 1-vs-0 conflict"),
        (num(s["gold_matched"]) if s["gold_matched"] is not None else "none", "gold samples"),
    ]
    card_html = "".join(f"<div class='card'><b>{v}</b><span>{t}</span></div>" for v, t in cards)
    have = s["sections"]
    items = "".join(
        f'<li><a href="#{a}">{escape(t)}</a> '
        + ("<span class='ok'>✓</span>" if have.get(a) else "<span class='no'>no data</span>")
        + "</li>"
        for a, t, _ in parts
    )
    lacking = [t for a, t, _ in parts if not have.get(a)]
    sources = ", ".join(f"<code>{escape(x)}</code>" for x in s["sources"]) or "no labeler"
    final = "with final labels from an aggregator" if s["final"] else "without final labels"
    text = f"{num(s['samples'])} samples from {sources}, {final}. " + (
        f"Sections without data: {escape(', '.join(lacking))}." if lacking else ""
    )
    return (
        f"<h1>labelmill audit</h1><p class='sub'>Build <code>{escape(str(m['build']))}</code>. "
        f"{text}</p><div class='cards'>{card_html}</div><nav><ul>{items}</ul></nav>"
    )
