"""The audit page's sections about the final labels and where to look: aggregation, gold metrics,
label maps, suspect samples. Each returns (lead, body), as in `sections.py`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from labelmill.audit.html import Html, absent, figure, num, pct, table


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
