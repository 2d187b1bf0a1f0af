"""The audit page's sections for judging labels: each labeler's accuracy as the label model
learned it (and on gold), slices by metadata, and the suspect samples with their evidence.
Each returns (lead, body), as in `sections.py`."""

from __future__ import annotations

from html import escape
from typing import Any

from labelmill.audit.html import (
    Html,
    Low,
    absent,
    flag,
    highlight,
    img,
    num,
    rate_html,
    table,
    value_ci,
)

ROWS = 40


def estimate(x: dict[str, Any]) -> Html:
    return value_ci(x["value"], x["ci95"])


def source_accuracy(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    a = m["source_accuracy"]
    lead = (
        "Each labeler's sensitivity and specificity per label as the label model (Dawid-Skene) "
        "learned them from the votes alone, without gold, with the 95% interval of its Beta "
        "posterior; beside them the same two measured on gold when a gold file is given. "
        "Uncertain votes follow the build's policy; abstentions do not count."
    )
    if not a["rows"]:
        return lead, absent(f"No label-model estimates: {escape(a['reason'] or 'no votes')}.")
    support = m["summary"]["min_support"]
    has_gold = m["gold"] is not None
    rows = []
    for r in a["rows"]:
        low = min(r["sensitivity"]["weight"], r["specificity"]["weight"]) < support
        gold = r["gold"] or {}
        cells = [
            r["source"],
            Html(escape(r["label"]) + (" " + flag(support) if low else "")),
            r["votes"],
            estimate(r["sensitivity"]),
            estimate(r["specificity"]),
        ]
        if has_gold:
            cells += [
                rate_html(gold.get("sensitivity"), "no gold positive"),
                rate_html(gold.get("specificity"), "no gold negative"),
            ]
        rows.append((Low if low else list)(cells))
    headers = ["labeler", "label", "1/0 votes", "sensitivity (model)", "specificity (model)"]
    if has_gold:
        headers += ["sensitivity (gold)", "specificity (gold)"]
    prior = a["prior"]
    note = (
        f"<p class='more'>Prior on every rate: Beta with {num(prior['strength'])} pseudo-votes at "
        f"{num(prior['accuracy'])} (the label model's own). The interval takes the other "
        "parameters as known, so the true uncertainty is somewhat wider.</p>"
    )
    if not has_gold:
        note += absent("No gold file given (--gold): only the label model's estimates are shown.")
    return lead, table(headers, rows, ROWS) + note


def slices(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    sl = m["slices"]
    lead = (
        "Prevalence of the most frequent labels (final labels, or majority vote without an "
        "aggregator), labeler agreement and gold F1 per value of a manifest metadata column."
    )
    if not sl["columns"]:
        return lead, absent("No slices asked for: run with --slice-by COLUMN (repeatable).")
    support = m["summary"]["min_support"]
    labels = sl["labels_shown"]
    out = []
    for col in sl["columns"]:
        out.append(
            f"<h3>by <code>{escape(col['column'])}</code></h3><p>{num(col['samples_with_column'])} "
            "samples carry the column."
            + (
                f" Only the first {sl['max_values']} values are apart; the rest are (other)."
                if col["capped"]
                else ""
            )
            + "</p>"
        )
        if not col["samples_with_column"]:
            out.append(absent(f"No sample has a metadata column {escape(col['column'])!s}."))
            continue
        rows = []
        for v in col["values"]:
            gold = v["gold"] or {}
            f1 = [x["f1"] for x in gold.values() if x["f1"] is not None]
            low = v["samples"] < support
            rows.append(
                (Low if low else list)(
                    [
                        Html(escape(v["value"]) + (" " + flag(support) if low else "")),
                        v["samples"],
                        rate_html(v["agreement"], "no shared cell"),
                        rate_html(v["conflict"]),
                        *(rate_html(v["prevalence"].get(k)) for k in labels),
                        *(
                            [num(sum(f1) / len(f1)) if f1 else Html("<span class='na'>n/a</span>")]
                            if m["gold"] is not None
                            else []
                        ),
                    ]
                )
            )
        headers = [
            "value",
            "samples",
            "agreement",
            "conflict",
            *(f"{k} prevalence" for k in labels),
        ]
        if m["gold"] is not None:
            headers.append("mean gold F1")
        out.append(table(headers, rows))
    return lead, "".join(out)


def vote_line(source: str, vote: Any, evidence: dict[str, Any] | None, issue: bool) -> str:
    """One source's vote on a suspect label with what decided it."""
    text = f"<code>{escape(source)}</code> <b>{escape(str(vote))}</b>"
    if issue:
        text += " <span class='flag'>confident issue</span>"
    if not evidence:
        return text
    kind = evidence["kind"]
    if kind == "sentence":
        return text + f": “{highlight(evidence['sentence'], evidence['mention'])}”"
    if kind == "raw":
        return text + f": source label “{escape(evidence['raw'])}”"
    if kind == "score":
        return text + f": score {num(evidence['score'])}"
    return text + f": {escape(str(evidence.get('trigger', '')))}"


def suspects(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    s = m["suspects"]
    lead = (
        "Samples ranked by a confident-learning score: 1 minus the lowest self-confidence of any "
        "vote (the final probability of the label it voted 1 on, or 1 minus it for a 0). Each "
        "vote shows what decided it; a confident issue is a vote whose opposite is at least as "
        "probable as that labeler's average on such votes."
    )
    if not s["top"]:
        return lead, absent("No sample has a vote against its final label, a conflict or a hedge.")
    out = [
        f"<p>{rate_html(s['conflict_rate'])} of the samples have a 1-vs-0 conflict. "
        f"{num(s['ranked'])} suspects are ranked; "
        + (
            f"<a href='{escape(s['csv'])}'>suspects.csv</a> lists every vote of each for "
            "relabeling.</p>"
            if s["csv"]
            else "</p>"
        )
    ]
    rows = []
    for x in s["top"]:
        pictures = img(figs.get(f"thumb:{x['key']}"), f"{x['key']}") + img(
            figs.get(f"thumbmap:{x['key']}"), f"label map of {x['key']}"
        )
        cells = []
        for c in x["cells"]:
            p = "n/a" if c["final"] is None else f"{c['final']:.3f}"
            votes = "<br>".join(
                vote_line(src, v, c["evidence"].get(src), src in c["issues"])
                for src, v in c["votes"].items()
            )
            cells.append(f"<b>{escape(c['label'])}</b> (final p {p})<br>{votes}")
        hedged = ", ".join(f"{escape(u['source'])}: {escape(u['label'])}" for u in x["uncertain"])
        if hedged:
            cells.append(f"<span class='more'>uncertain: {hedged}</span>")
        rows.append(
            [
                Html(f"<div class='thumbs'>{pictures}</div>"),
                Html(f"<code>{escape(x['key'])}</code><br>{escape(x['id'])}"),
                x["score"],
                x["confident_issues"],
                Html("<hr>".join(cells) or "—"),
            ]
        )
    out.append(table(["image", "sample", "score", "confident issues", "votes and evidence"], rows))
    return lead, "".join(out)
