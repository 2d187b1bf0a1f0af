"""The audit page's sections about the build and its labelers: provenance, label distribution,
per-labeler agreement, report mining, harmonization. Each returns (lead, body); a section whose
data the build lacks says so, and says what would fill it.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from labelmill.audit.families import ORDER
from labelmill.audit.html import (
    STATUS,
    Html,
    Low,
    absent,
    figure,
    flag,
    highlight,
    num,
    rate_html,
    table,
    value_ci,
)
from labelmill.audit.votes import FINAL


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
                    rate_html(c["reject_rate"], "nothing read"),
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
    out.append(
        "<h3>Labelers</h3>"
        + table(["source", "model", "ontology", "version", "settings"], labeler_rows(p["labelers"]))
    )
    versions = [[k, v] for k, v in sorted(p["versions"].items())]
    out.append(
        f"<h3>Versions</h3>{table(['package', 'version'], versions, limit=100)}"
        f"<p>{num(p['shards'])} shards, build wall time {num(p['wall_time_s'])} s, "
        f"fingerprint <code>{escape(str(p['fingerprint']))}</code>.</p>"
        "<details><summary>Build config</summary>"
        f"<pre>{escape(json.dumps(p['config'], indent=2, sort_keys=True))}</pre></details>"
    )
    return lead, "".join(out)


DESCRIBED = {"source", "model", "ontology", "ontology_hash", "engine_version", "version"}


def labeler_rows(labelers: list[dict[str, Any]]) -> list[list[Any]]:
    """run.json's labeler descriptions as readable rows: model, ontology, version, settings."""
    rows = []
    for x in labelers:
        ontology = x.get("ontology") or ""
        if x.get("ontology_hash"):
            ontology = f"{ontology} ({str(x['ontology_hash'])[:8]})"
        settings = "; ".join(
            f"{k}: {short_value(v)}" for k, v in sorted(x.items()) if k not in DESCRIBED
        )
        version = x.get("engine_version") or x.get("version") or ""
        rows.append([x.get("source", "?"), x.get("model") or "", ontology, version, settings])
    return rows


def short_value(value: Any) -> str:
    """A setting in a few words: numbers and strings as they are, lists and dicts by size."""
    if isinstance(value, list):
        return f"{len(value)} items"
    if isinstance(value, dict):
        scalar = all(isinstance(v, int | float | bool) for v in value.values())
        parts = (f"{k}={v}" if scalar else str(k) for k, v in sorted(value.items()))
        return ", ".join(parts)[:80]
    return str(value)[:80]


def distribution(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    d = m["distribution"]
    lead = (
        "Per labeler and for the final labels: how many samples each label is positive, negative "
        "or uncertain in; prevalence is positives over all written samples."
    )
    if not d["samples"]:
        return lead, absent("The build has no samples.")
    fam = m["families"]["per_source"]
    support = m["summary"]["min_support"]
    out = [figure(figs, "labels_per_sample", "labels per sample")]
    rows = [
        [name, s["samples"], s["labels_per_sample"]["mean"], *(fam[name][f] for f in ORDER)]
        for name, s in d["sources"].items()
    ]
    headers = ["source", "samples", "positive labels per sample", *ORDER]
    out.append(table(headers, rows))
    out.append(
        f"<p class='more'>Labels with fewer than {support} positive samples are grey and "
        f"flagged {flag(support)}: their prevalence and any rate on them rest on too few "
        "cases.</p>"
    )
    if FINAL not in d["sources"]:
        out.append(absent("No final labels: the build ran without an aggregator (--aggregate)."))
    for name, s in d["sources"].items():
        labels = s["labels"]
        order = sorted(labels, key=lambda k: (-labels[k]["positive"], k))
        family = m["families"]["family"]
        rows = [
            (Low if labels[k]["positive"] < support else list)(
                [
                    Html(
                        escape(k) + (" " + flag(support) if labels[k]["positive"] < support else "")
                    ),
                    family.get(k, ""),
                    labels[k]["positive"],
                    labels[k]["negative"],
                    labels[k]["uncertain"],
                    rate_html(labels[k]["prevalence"]),
                ]
            )
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
            table(["label", "family", "positive", "negative", "uncertain", "prevalence"], rows, 15)
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
            rate_html(s["coverage"]),
            rate_html(s["overlap"]),
            rate_html(s["conflict"]),
            " ".join(f"{v:+d}" if v else "0" for v in s["polarity"]),
            s["uncertain"],
            s["errors"],
            rate_html(s["accuracy"], "no gold" if m["gold"] is None else "no gold-known vote"),
        ]
        for name, s in lab["sources"].items()
    ]
    headers = ["labeler", "votes", "coverage", "overlap", "conflict", "polarity"]
    out = [table([*headers, "uncertain", "errors", "accuracy on gold"], rows)]
    if m["gold"] is None:
        out.append(absent("No gold file given (--gold): accuracy is not computed."))
    if len(lab["sources"]) < 2:
        out.append(absent("Only one labeler: there is nothing to compare it with."))
        return lead, "".join(out)
    pairs = [
        [
            p["a"],
            p["b"],
            p["both_vote"],
            rate_html(p["agree"], "no shared cell"),
            p["conflicts"],
            p["definite"],
            value_ci(p["kappa"], p["kappa_ci95"], p["kappa_na"] or ""),
        ]
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
        "<p class='more'>Cohen's kappa over the (sample, label) cells both vote 1 or 0 on, with "
        "a bootstrap 95% interval; n/a, with the reason, when they share none or one of them "
        "always says the same (its chance agreement is then total, and kappa is 0 by "
        "arithmetic, not by evidence: read the agreement column instead).</p>"
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
        support = m["summary"]["min_support"]
        for label, x in sorted(s["labels"].items(), key=lambda t: (-t[1]["mentioned"], t[0])):
            low = x["mentioned"] < support
            rows.append(
                (Low if low else list)(
                    [
                        Html(escape(label) + (" " + flag(support) if low else "")),
                        x["mentioned"],
                        rate_html(x["negation_rate"]),
                        rate_html(x["uncertainty_rate"]),
                        Html("<br>".join(example(e) for e in x["examples"])),
                    ]
                )
            )
        out.append(table(["label", "mentioned", "negated", "uncertain", "evidence"], rows))
    return lead, "".join(out)


def example(e: dict[str, Any]) -> str:
    """An evidence sentence with its mention highlighted, its status and its sample key."""
    sentence = highlight(e["sentence"], e.get("mention") or "")
    trigger = f" ({escape(str(e['trigger']))})" if e.get("trigger") else ""
    return (
        f"<b>{STATUS.get(e['status'], e['status'])}</b>{trigger}: “{sentence}” "
        f"<code>{escape(e['key'])}</code>"
    )


def harmonization(m: dict[str, Any], figs: dict[str, str]) -> tuple[str, str]:
    h = m["harmonization"]
    lead = "Raw label strings of the manifest mapped onto the ontology: how, how sure, how often."
    classes = "".join(class_map(c) for c in h.get("class_maps") or [])
    if not h["harmonized"]:
        manifest = m["distribution"]["sources"].get("manifest", {}).get("labels", {})
        return lead, classes + absent(
            "Manifest labels were not harmonized (--harmonize ONTOLOGY); they are compared with "
            f"other labelers by their raw names ({num(len(manifest))} distinct strings)."
        )
    out = [
        f"<p>{num(h['mapped'])} of {num(h['strings'])} distinct strings mapped; "
        f"{rate_html(h['mapped_use_rate'], 'no uses')} of the uses.</p>"
    ]
    if not h["decisions_recorded"]:
        out.append(absent("The build kept no harmonizer decisions: method and score are unknown."))
    if h["harmonizer"]:
        out.append(
            "<p>Harmonizer: "
            + "; ".join(
                f"{escape(k)} <code>{escape(short_value(v))}</code>"
                for k, v in sorted(h["harmonizer"].items())
            )
            + "</p>"
        )
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
    return lead, "".join(out) + classes


def class_map(c: dict[str, Any]) -> str:
    """An image model's class names mapped onto the ontology (the ones that map)."""
    rows = [[r["raw"], r["label"], r["method"], r["score"], r["reason"]] for r in c["mapped"]]
    head = (
        f"<h3>Image classes: <code>{escape(c['key'])}</code></h3>"
        f"<p>{num(len(rows))} of {num(c['classes'])} classes map onto the ontology; "
        "the others abstain.</p>"
    )
    return head + (table(["class", "label", "method", "score", "reason"], rows, 50) if rows else "")
