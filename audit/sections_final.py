"""The audit page's sections about the final labels and where to look: aggregation, gold metrics,
label maps. Each returns (lead, body), as in `sections.py`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from labelmill.audit.html import (
    Html,
    Low,
    absent,
    figure,
    flag,
    img,
    num,
    pct,
    rate_html,
    table,
    value_ci,
)
from labelmill.audit.thumbs import MAP_COLORS


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
        f"majority vote on {rate_html(a['disagree_rate'], 'no cells')} of the (sample, label) "
        "cells.</p>",
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
            + table(
                ["probability bin", "cells", "mean predicted", "observed positive rate"],
                [
                    [
                        f"{b['low']:.1f}–{b['high']:.1f}",
                        b["cells"],
                        b["mean_predicted"],
                        rate_html(b["observed"], "no cell"),
                    ]
                    for b in cal["bins"]
                    if b["cells"]
                ],
            )
        )
    return lead, "".join(out)


def gold(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    g = m["gold"]
    lead = (
        "Precision, recall and F1 per label of each labeler and of the final labels, with "
        "95% intervals (Wilson for precision and recall, Bayesian bootstrap for F1). A vote of 1 "
        "is a positive prediction; anything else negative."
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
        + f"; F1 from {g['bootstrap']['draws']} draws, seed {g['bootstrap']['seed']}.</p>",
        gold_mapping(g["mapping"]),
        figure(figs, "gold_f1", "F1 with intervals"),
    ]
    support = m["summary"]["min_support"]
    rows = []
    for source, labels in sorted(g["per_source"].items()):
        for label, x in sorted(labels.items()):
            ci = x["ci95"]
            low = x["support"] < support
            rows.append(
                (Low if low else list)(
                    [
                        source,
                        Html(escape(label) + (" " + flag(support) if low else "")),
                        x["n"],
                        x["support"],
                        value_ci(x["precision"], ci["precision"], "no positive prediction"),
                        value_ci(x["recall"], ci["recall"], "no gold positive"),
                        value_ci(x["f1"], ci["f1"], "no positive at all"),
                    ]
                )
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


def gold_mapping(mapping: dict[str, Any] | None) -> str:
    """How each gold column was matched to the build's labels, and what matched nothing."""
    if not mapping:
        return ""
    ontology = mapping["ontology"]
    intro = (
        f"<h3>Gold columns</h3><p>Mapped onto <code>{escape(ontology)}</code> with the build's "
        f"harmonizer (LLM: {escape(str(mapping['llm']))}).</p>"
        if ontology and not mapping["note"]
        else f"<h3>Gold columns</h3><p>{escape(mapping['note'])}.</p>"
    )
    rows = [
        [
            r["column"],
            r["label"] or Html("<span class='na'>unmatched</span>"),
            r["method"],
            r["score"],
            r["compared_as"] or "dropped",
            r["reason"],
        ]
        for r in mapping["columns"]
    ]
    out = intro + table(
        ["gold column", "label", "method", "score", "compared as", "reason"], rows, 50
    )
    if mapping["unmatched"]:
        out += absent(
            "Gold columns the harmonizer could not place (compared by their own name): "
            + ", ".join(f"<code>{escape(x)}</code>" for x in mapping["unmatched"])
        )
    return out


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
        "<figure>"
        + img(figs.get(f"map:{g['key']}"), f"label map of {g['key']}")
        + f"<figcaption><code>{escape(g['key'])}</code><div class='legend'>"
        + "".join(
            f"<span><i style='background:{MAP_COLORS[i]}'></i>{escape(c['name'])} "
            f"{pct(c['share'])}</span>"
            for i, c in enumerate(g["classes"])
        )
        + "</div></figcaption></figure>"
        for g in lm["gallery"]
    )
    out.append(f"<div class='gallery'>{tiles}</div>")
    rows = [[c["class"], c["name"], pct(c["mean_area"])] for c in lm["top_classes"]]
    out.append("<h3>Classes by mean area</h3>" + table(["id", "class", "mean area"], rows))
    return lead, "".join(out)
