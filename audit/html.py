"""Render the audit page: one self-contained HTML file (inline CSS, embedded PNGs, no scripts).

Every number shown comes from the metrics dict that is also written as metrics.json. A section
whose data the build lacks says so, and says what would fill it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import Any

from labelmill.audit.votes import FINAL

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


def provenance(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    p = m["provenance"]
    lead = "How the build was made and what it dropped (run.json, rejects.parquet)."
    out = []
    if not p["run_json"]:
        out.append(absent("No run.json: the build did not finish; counts come from the shards."))
    c = p["counts"]
    out.append(
        table(
            ["read", "written", "rejected", "reject rate", "written+rejected=read", "in shards"],
            [
                [
                    c["read"],
                    c["written"],
                    c["rejected"],
                    pct(c["reject_rate"]),
                    c["balanced"],
                    c["streamed"],
                ]
            ],
        )
    )
    if p["rejected_by_reason"]:
        rows = []
        for reason, count in p["rejected_by_reason"].items():
            examples = "<br>".join(
                f"row {escape(str(e.get('row')))} <code>{escape(str(e.get('id')))}</code> "
                f"[{escape(str(e.get('stage')))}]: {escape(str(e.get('detail')))}"
                for e in p["reject_examples"].get(reason, [])
            )
            rows.append([reason, count, Html(examples)])
        out.append("<h3>Rejects by reason</h3>" + table(["reason", "count", "examples"], rows))
    else:
        out.append("<p>No input was rejected.</p>")
    labelers = [
        [x.get("source", "?"), Html(f"<code>{escape(compact(x))}</code>")] for x in p["labelers"]
    ]
    out.append("<h3>Labelers</h3>" + table(["source", "description"], labelers))
    versions = [[k, v] for k, v in sorted(p["versions"].items())]
    out.append(
        f"<h3>Versions</h3>{table(['package', 'version'], versions, limit=100)}"
        f"<p>{num(p['shards'])} shards, build wall time {num(p['wall_time_s'])} s, "
        f"fingerprint <code>{escape(str(p['fingerprint']))}</code>.</p>"
        "<details><summary>Build config</summary>"
        f"<pre>{escape(json.dumps(p['config'], indent=2, sort_keys=True))}</pre></details>"
    )
    return lead, "".join(out)


def compact(value: dict[str, Any]) -> str:
    rest = {k: v for k, v in value.items() if k != "source"}
    return json.dumps(rest, sort_keys=True)


def distribution(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    d = m["distribution"]
    lead = (
        "Per labeler and for the final labels: how many samples each label is positive, negative "
        "or uncertain in; prevalence is positives over all written samples."
    )
    if not d["samples"]:
        return lead, absent("The build has no samples.")
    out = [figure(figs, "labels_per_sample", "labels per sample")]
    rows = [
        [name, s["samples"], s["labels_per_sample"]["mean"], len(s["labels"])]
        for name, s in d["sources"].items()
    ]
    out.append(table(["source", "samples", "positive labels per sample", "labels"], rows))
    if FINAL not in d["sources"]:
        out.append(absent("No final labels: the build ran without an aggregator (--aggregate)."))
    for name, s in d["sources"].items():
        labels = s["labels"]
        order = sorted(labels, key=lambda k: (-labels[k]["positive"], k))
        rows = [
            [
                k,
                labels[k]["positive"],
                labels[k]["negative"],
                labels[k]["uncertain"],
                pct(labels[k]["prevalence"]),
            ]
            for k in order
        ]
        out.append(f"<h3>{escape(name)}</h3>")
        out.append(
            "<div class='pair'>"
            + figure(figs, f"labels:{name}", f"label counts of {name}")
            + figure(figs, f"cooc:{name}", f"co-occurrence of {name}")
            + "</div>"
        )
        out.append(
            table(["label", "positive", "negative", "uncertain", "prevalence"], rows, limit=15)
        )
    return lead, "".join(out)


def labelers(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    lab = m["labelers"]
    lead = (
        "Per labeler, as shares of all samples: coverage (it votes on the sample), overlap "
        "(another labeler votes on one of the same labels), conflict (another votes the opposite "
        "1/0 on one of them). Polarity lists the values it emits. Accuracy is over its 1/0 votes "
        "on gold-labelled cells. Labels are compared by name."
    )
    if not lab["sources"]:
        return lead, absent("No labeler records in this build.")
    rows = [
        [
            name,
            s["votes"],
            pct(s["coverage"]),
            pct(s["overlap"]),
            pct(s["conflict"]),
            " ".join(f"{v:+d}" if v else "0" for v in s["polarity"]),
            s["uncertain"],
            s["errors"],
            pct(s["accuracy"]),
            s["gold_votes"],
        ]
        for name, s in lab["sources"].items()
    ]
    headers = ["labeler", "votes", "coverage", "overlap", "conflict", "polarity"]
    out = [table([*headers, "uncertain", "errors", "accuracy", "gold votes"], rows)]
    if m["gold"] is None:
        out.append(absent("No gold file given (--gold): accuracy is not computed."))
    if len(lab["sources"]) < 2:
        out.append(absent("Only one labeler: there is nothing to compare it with."))
        return lead, "".join(out)
    pairs = [
        [p["a"], p["b"], p["both_vote"], pct(p["agree"]), p["conflicts"], p["definite"], p["kappa"]]
        for p in lab["pairs"]
    ]
    out.append("<h3>Pairwise agreement</h3>")
    out.append(
        table(
            ["labeler A", "labeler B", "shared cells", "agree", "1-vs-0", "1/0 cells", "kappa"],
            pairs,
        )
    )
    out.append(
        "<p class='more'>Cohen's kappa over the (sample, label) cells both vote 1 or 0 on; "
        "n/a when they share none or one of them always says the same.</p>"
    )
    out.append(figure(figs, "kappa", "pairwise Cohen's kappa"))
    return lead, "".join(out)


def mining(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    r = m["report_mining"]
    lead = (
        f"{num(r['with_report'])} of {num(r['samples'])} samples have a report. Per label: how "
        "often the miner affirms, negates or hedges it, over the samples that mention it."
    )
    if not r["sources"]:
        return lead, absent("No report miner ran in this build (--report-ontology NAME).")
    out = []
    for name, s in r["sources"].items():
        ev = s["evidence"]
        out.append(
            f"<h3>{escape(name)}</h3><p>{num(s['samples'])} samples; evidence sentences: "
            f"{num(ev['positive'])} positive, {num(ev['negative'])} negative, "
            f"{num(ev['uncertain'])} uncertain.</p>"
        )
        out.append(figure(figs, f"mining:{name}", f"negation and uncertainty of {name}"))
        rows = []
        for label, x in sorted(s["labels"].items(), key=lambda t: (-t[1]["mentioned"], t[0])):
            rows.append(
                [
                    label,
                    x["mentioned"],
                    pct(x["negation_rate"]),
                    pct(x["uncertainty_rate"]),
                    Html("<br>".join(example(e) for e in x["examples"])),
                ]
            )
        out.append(table(["label", "mentioned", "negated", "uncertain", "evidence"], rows))
    return lead, "".join(out)


def example(e: dict[str, Any]) -> str:
    """An evidence sentence with its mention highlighted, its status and its sample key."""
    sentence, mention = escape(e["sentence"]), escape(e.get("mention") or "")
    if mention and mention in sentence:
        sentence = sentence.replace(mention, f"<mark>{mention}</mark>", 1)
    trigger = f" ({escape(str(e['trigger']))})" if e.get("trigger") else ""
    return (
        f"<b>{STATUS.get(e['status'], e['status'])}</b>{trigger}: “{sentence}” "
        f"<code>{escape(e['key'])}</code>"
    )


def harmonization(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    h = m["harmonization"]
    lead = "Raw label strings of the manifest mapped onto the ontology: how, how sure, how often."
    if not h["harmonized"]:
        manifest = m["distribution"]["sources"].get("manifest", {}).get("labels", {})
        return lead, absent(
            "Manifest labels were not harmonized (--harmonize ONTOLOGY); they are compared with "
            f"other labelers by their raw names ({num(len(manifest))} distinct strings)."
        )
    out = [
        f"<p>{num(h['mapped'])} of {num(h['strings'])} distinct strings mapped; "
        f"{num(h['mapped_use_rate'], percent=True)} of {num(h['uses'])} uses.</p>"
    ]
    if not h["decisions_recorded"]:
        out.append(absent("The build kept no harmonizer decisions: method and score are unknown."))
    if h["harmonizer"]:
        out.append(f"<p>Harmonizer: <code>{escape(compact(h['harmonizer']))}</code></p>")
    rows = [
        [r["raw"], r["label"] or "unmapped", r["method"], r["score"], r["samples"], r["reason"]]
        for r in h["table"]
    ]
    out.append(table(["raw", "canonical", "method", "score", "samples", "reason"], rows, 50))
    if h["unmapped"]:
        out.append(
            "<h3>Unmapped strings</h3><p>"
            + ", ".join(f"<code>{escape(s)}</code>" for s in h["unmapped"][:100])
            + "</p>"
        )
    return lead, "".join(out)


def aggregation(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    a = m["aggregation"]
    lead = (
        "The final labels against a plain majority vote of the same records, how confident they "
        "are, and with gold how well calibrated."
    )
    if not a["samples_with_final"]:
        return lead, absent(
            "No final labels: the build ran without an aggregator (--aggregate majority or "
            "dawid-skene)."
        )
    methods = ", ".join(f"<code>{escape(k)}</code> ({num(v)})" for k, v in a["methods"].items())
    out = [
        f"<p>{num(a['samples_with_final'])} samples by {methods}; the final label differs from "
        f"majority vote on {num(a['disagree_with_majority'])} of {num(a['cells'])} "
        f"(sample, label) cells ({num(a['disagree_rate'], percent=True)}).</p>",
        figure(figs, "confidence", "confidence histogram"),
    ]
    if a["disagreement_examples"]:
        rows = [
            [e["key"], e["label"], e["final"], e["final_score"], e["majority"], e["majority_score"]]
            for e in a["disagreement_examples"]
        ]
        out.append(table(["key", "label", "final", "final p", "majority", "majority p"], rows))
    rows = [
        [k, v["cells"], v["positive"], v["disagree_with_majority"], v["no_majority"]]
        for k, v in sorted(a["labels"].items(), key=lambda t: (-t[1]["cells"], t[0]))
    ]
    out.append(table(["label", "cells", "positive", "≠ majority", "no majority"], rows, 15))
    cal = a["calibration"]
    if cal is None:
        out.append(absent("No gold file given (--gold): calibration is not measured."))
    elif not cal["cells"]:
        out.append(absent("No gold label falls on a final label: calibration is not measured."))
    else:
        out.append(
            f"<h3>Calibration</h3><p>{num(cal['cells'])} gold cells; expected calibration error "
            f"{num(cal['ece'])}, Brier score {num(cal['brier'])}.</p>"
            + figure(figs, "calibration", "reliability diagram")
        )
    return lead, "".join(out)


def gold(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    g = m["gold"]
    lead = (
        "Precision, recall and F1 per label of each labeler and of the final labels, with "
        "bootstrap 95% intervals. A vote of 1 is a positive prediction; anything else negative."
    )
    if g is None:
        return lead, absent("No gold file given: run with --gold GOLD.csv or GOLD.jsonl.")
    out = [
        f"<p><code>{escape(g['file'])}</code>: {num(g['rows'])} rows matched by "
        f"<code>{escape(g['match'])}</code>, {num(g['matched'])} found in the build, "
        f"{num(g['unmatched'])} not"
        + (
            " (e.g. "
            + ", ".join(f"<code>{escape(x)}</code>" for x in g["unmatched_examples"])
            + ")"
            if g["unmatched_examples"]
            else ""
        )
        + f"; {g['bootstrap']['draws']} bootstrap draws, seed {g['bootstrap']['seed']}.</p>",
        figure(figs, "gold_f1", "F1 with intervals"),
    ]
    rows = []
    for source, labels in sorted(g["per_source"].items()):
        for label, x in sorted(labels.items()):
            ci = x["ci95"]
            rows.append(
                [
                    source,
                    label,
                    x["n"],
                    x["support"],
                    Html(interval(x["precision"], ci["precision"])),
                    Html(interval(x["recall"], ci["recall"])),
                    Html(interval(x["f1"], ci["f1"])),
                ]
            )
    out.append(
        table(["source", "label", "n", "gold positives", "precision", "recall", "F1"], rows, 60)
    )
    if g["labels_without_votes"]:
        out.append(
            absent(
                "No labeler votes on these gold labels: "
                + ", ".join(escape(x) for x in g["labels_without_votes"])
            )
        )
    return lead, "".join(out)


def interval(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" <span class='more'>[{ci[0]:.3f}, {ci[1]:.3f}]</span>" if ci else "")


def label_maps(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    lm = m["label_maps"]
    lead = (
        "The image model's top-1 class per map location, laid over the first few images; colours "
        "mark each map's largest classes, uncoloured cells hold other classes."
    )
    if not lm["samples_with_maps"]:
        return lead, absent(
            "No label maps in this build: it ran without an image model (--image-model)."
        )
    out = [
        f"<p>{num(lm['samples_with_maps'])} samples carry maps ({escape(', '.join(lm['arrays']))})"
        f"; map shapes: {escape(', '.join(f'{k} ×{v}' for k, v in lm['map_shapes'].items()))}.</p>"
    ]
    if not lm["class_names_known"]:
        out.append(absent("run.json lists no class names for the model: class ids are shown."))
    tiles = "".join(
        figure(figs, f"map:{g['key']}", f"label map of {g['key']}") for g in lm["gallery"]
    )
    out.append(f"<div class='gallery'>{tiles}</div>")
    rows = [[c["class"], c["name"], pct(c["mean_area"])] for c in lm["top_classes"]]
    out.append("<h3>Classes by mean area</h3>" + table(["id", "class", "mean area"], rows))
    return lead, "".join(out)


def suspects(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    s = m["suspects"]
    lead = (
        "Samples where labelers disagree most: labels voted 1 by one labeler and 0 by another, "
        "then the most uncertain votes. Keys find the sample in its shard."
    )
    if s["sources"] < 2:
        return lead, absent("Fewer than two labelers: there is no disagreement to find.")
    out = [f"<p>{num(s['samples_with_conflict'])} samples have at least one 1-vs-0 conflict.</p>"]
    if not s["top"]:
        out.append("<p>No sample has a conflict or an uncertain vote.</p>")
        return lead, "".join(out)
    rows = []
    for x in s["top"]:
        detail = "<br>".join(
            f"<b>{escape(c['label'])}</b>: "
            + ", ".join(f"{escape(src)} {v}" for src, v in c["votes"].items())
            + (f"; final p {c['final']:.3f}" if c["final"] is not None else "")
            for c in x["conflicts"]
        )
        hedged = ", ".join(f"{escape(u['source'])} {escape(u['label'])}" for u in x["uncertain"])
        detail += ("<br>" if detail and hedged else "") + (f"uncertain: {hedged}" if hedged else "")
        rows.append(
            [x["key"], x["id"], x["conflicting_labels"], x["uncertain_votes"], Html(detail or "—")]
        )
    out.append(table(["key", "id", "conflicting labels", "uncertain votes", "votes"], rows))
    return lead, "".join(out)
