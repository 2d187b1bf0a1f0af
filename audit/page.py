"""Render the audit page: a header with the headline tiles, then every section in order.

Every number shown comes from the metrics dict that is also written as metrics.json; each tile
names its metrics.json path in `data-metric`, so a test can check the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from labelmill.audit.families import ORDER
from labelmill.audit.html import CSS, num, section, tile
from labelmill.audit.sections import distribution, harmonization, labelers, mining, provenance
from labelmill.audit.sections_final import aggregation, gold, label_maps
from labelmill.audit.sections_review import slices, source_accuracy, suspects

SectionFn = Callable[[dict[str, Any], dict[str, str]], tuple[str, str]]
PARTS: tuple[tuple[str, str, SectionFn], ...] = (
    ("provenance", "Provenance", provenance),
    ("distribution", "Label distribution", distribution),
    ("labelers", "Labelers", labelers),
    ("source_accuracy", "Labeler accuracy", source_accuracy),
    ("report_mining", "Report mining", mining),
    ("harmonization", "Harmonization", harmonization),
    ("aggregation", "Aggregation", aggregation),
    ("gold", "Gold metrics", gold),
    ("slices", "Slices", slices),
    ("label_maps", "Label maps", label_maps),
    ("suspects", "Suspect samples", suspects),
)


def render(m: dict[str, Any], figs: dict[str, str]) -> str:
    """The whole page."""
    body = [header(m, PARTS)]
    for anchor, title, fn in PARTS:
        lead, content = fn(m, figs)
        body.append(section(anchor, title, lead, content))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>labelmill audit: {escape(str(m['build']))}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def rate_tile(metric: str, r: dict[str, Any], caption: str, what: str, reason: str) -> str:
    """A tile for a rate: the percentage, its k of n and interval; n/a with the reason."""
    if r["rate"] is None:
        return tile(metric, "n/a", caption, escape(reason), "na")
    lo, hi = r["ci95"]
    note = f"{num(r['k'])} of {num(r['n'])} {what}; 95% CI {100 * lo:.1f}–{100 * hi:.1f}%"
    low = bool(r.get("low_support"))
    if low:
        note += " <span class='flag'>⚑ low support</span>"
    return tile(metric, f"{100 * r['rate']:.1f}%", caption, note, "low" if low else "")


def tiles(m: dict[str, Any]) -> str:
    s = m["summary"]
    pairs = s["kappa_pairs"]
    kappa = s["mean_pairwise_kappa"]
    defined = [p["kappa"] for p in m["labelers"]["pairs"] if p["kappa"] is not None]
    if kappa is None:
        kappa_tile = tile(
            "summary.mean_pairwise_kappa", "n/a", "mean pairwise kappa", escape(s["kappa_na"]), "na"
        )
    else:
        note = f"mean of {pairs['defined']} of {pairs['pairs']} labeler pairs"
        if len(defined) > 1:
            note += f"; range {min(defined):.3f} to {max(defined):.3f}"
        kappa_tile = tile("summary.mean_pairwise_kappa", num(kappa), "mean pairwise kappa", note)
    gold_n = s["gold_matched"]
    out = [
        tile("summary.samples", num(s["samples"]), "samples written", f"of {num(s['read'])} read"),
        rate_tile("summary.reject_rate", s["reject_rate"], "rejected", "inputs", "no input read"),
        *(
            tile(f"summary.labels.{family}", num(s["labels"][family]), family, "distinct labels")
            for family in ORDER
        ),
        kappa_tile,
        rate_tile(
            "summary.agreement",
            s["agreement"],
            "labelers agree",
            "shared (sample, label) cells",
            "no two labelers vote on the same label of a sample",
        ),
        rate_tile(
            "summary.conflict_rate",
            s["conflict_rate"],
            "samples with a 1-vs-0 conflict",
            "samples",
            "no samples",
        ),
        tile("summary.gold_matched", num(gold_n), "gold samples", "", "")
        if gold_n is not None
        else tile("summary.gold_matched", "n/a", "gold samples", "no gold file (--gold)", "na"),
    ]
    return f"<div class='cards'>{''.join(out)}</div>"


def header(m: dict[str, Any], parts: Sequence[tuple[str, str, SectionFn]]) -> str:
    s = m["summary"]
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
        f"Sections without data: {escape(', '.join(lacking))}. " if lacking else ""
    )
    text += (
        f"Rates show their n and a 95% interval; those on fewer than {s['min_support']} "
        "samples are grey and flagged ⚑."
    )
    return (
        f"<h1>labelmill audit</h1><p class='sub'>Build <code>{escape(str(m['build']))}</code>. "
        f"{text}</p>{tiles(m)}<nav><ul>{items}</ul></nav>"
    )
