"""The audit's figures, drawn with matplotlib's object API (no pyplot state, no display) and
returned as PNG data URIs that the page embeds, so it opens offline as one file. Plots are
reduced to a 64-colour palette (flat colours and text lose nothing; the bytes drop about 3x);
pictures (label maps, suspects) are small WebP thumbnails from `thumbs.py`."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from PIL import Image

from labelmill.audit.thumbs import data_uri, overlay, shrink

TOP = 20
STATUS_COLORS = {"positive": "#2e7d32", "negative": "#1565c0", "uncertain": "#f9a825"}
PALETTE = 64
GALLERY_SIDE = 300


def short(name: str, width: int = 32) -> str:
    """A label for an axis: the part before the first comma, cut to `width` characters, with `$`
    escaped: labels are data, and matplotlib would parse `$...$` as math (`$_$` raises)."""
    head = name.split(",")[0].strip() or name
    head = head if len(head) <= width else head[: width - 1] + "…"
    return head.replace("$", r"\$")


def png(fig: Figure) -> str:
    """The figure as a data URI; no metadata, so the bytes are the same on every run."""
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    with Image.open(raw) as im:
        small = im.convert("RGB").quantize(PALETTE, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def label_counts(source: dict[str, Any], title: str) -> str:
    """Stacked positive / negative / uncertain counts of a source's most frequent labels."""
    labels = source["labels"]
    names = sorted(labels, key=lambda k: (-labels[k]["positive"], -sum_votes(labels[k]), k))[:TOP]
    names = names[::-1]
    fig = Figure(figsize=(5.6, 0.3 * len(names) + 1.2))
    ax = fig.add_subplot()
    left = np.zeros(len(names))
    for status, color in STATUS_COLORS.items():
        values = np.array([labels[k][status] for k in names], dtype=float)
        ax.barh([short(k) for k in names], values, left=left, color=color, label=status)
        left += values
    ax.set_xlabel("samples")
    ax.set_title(title, fontsize=11)
    status_legend(ax)
    ax.tick_params(axis="y", labelsize=9)
    return png(fig)


def status_legend(ax: Any) -> None:
    """The positive / negative / uncertain key, in one row under the x axis, off the bars."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24), ncol=3, fontsize=8, frameon=False)


def sum_votes(row: dict[str, Any]) -> int:
    return int(row["positive"] + row["negative"] + row["uncertain"])


def labels_per_sample(sources: dict[str, dict[str, Any]]) -> str:
    """Grouped bars: how many samples have 0, 1, 2, ... positive labels, per source."""
    names = sorted(sources)
    ks = sorted({int(k) for s in sources.values() for k in s["labels_per_sample"]["histogram"]})
    fig = Figure(figsize=(7, 3))
    ax = fig.add_subplot()
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        hist = sources[name]["labels_per_sample"]["histogram"]
        ax.bar(
            [k + i * width - 0.4 + width / 2 for k in ks],
            [hist.get(str(k), 0) for k in ks],
            width=width,
            label=short(name, 40),
        )
    ax.set_xticks(ks)
    ax.set_xlabel("positive labels per sample")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    return png(fig)


def heatmap(
    matrix: Sequence[Sequence[float | None]],
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    fmt: str = "{:.0f}",
    vmin: float | None = None,
    vmax: float | None = None,
) -> str:
    """An annotated heatmap; None cells are grey and marked n/a."""
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    size = max(len(rows), len(cols))
    fig = Figure(figsize=(min(2 + 0.36 * size, 6.4), min(1.6 + 0.33 * size, 6.4)))
    ax = fig.add_subplot()
    cmap = ListedColormap(
        [tuple(c) for c in np.linspace([1, 1, 1], [0.08, 0.4, 0.75], 64)]
    ).with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), [short(c, 24) for c in cols], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [short(r, 24) for r in rows])
    ax.tick_params(labelsize=8)
    limit = np.nanmax(data) if np.isfinite(data).any() else 0
    for (i, j), v in np.ndenumerate(data):
        text = "n/a" if np.isnan(v) else fmt.format(v)
        dark = not np.isnan(v) and limit and v > 0.6 * (vmax if vmax is not None else limit)
        ax.text(
            j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black"
        )
    ax.set_title(title, fontsize=11)
    fig.colorbar(image, ax=ax, shrink=0.7)
    return png(fig)


def stacked_rates(labels: dict[str, dict[str, Any]], title: str) -> str:
    """Per label, the share of mentions that affirm, negate and hedge it."""
    names = sorted(labels, key=lambda k: (-labels[k]["mentioned"], k))[:TOP][::-1]
    fig = Figure(figsize=(7, 0.32 * len(names) + 1.2))
    ax = fig.add_subplot()
    left = np.zeros(len(names))
    for status, color in STATUS_COLORS.items():
        values = np.array([labels[k][status] / labels[k]["mentioned"] for k in names], dtype=float)
        ax.barh([short(k) for k in names], values, left=left, color=color, label=status)
        left += values
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the samples that mention the label")
    ax.set_title(title, fontsize=11)
    status_legend(ax)
    ax.tick_params(axis="y", labelsize=9)
    return png(fig)


def confidence(hist: dict[str, Any]) -> str:
    """Histogram of the final labels' probabilities."""
    edges, counts = hist["edges"], hist["counts"]
    fig = Figure(figsize=(5, 3))
    ax = fig.add_subplot()
    ax.bar(
        edges[:-1], counts, width=np.diff(edges), align="edge", color="#5c6bc0", edgecolor="white"
    )
    ax.set_xlabel("final probability")
    ax.set_ylabel("(sample, label) cells")
    ax.set_xlim(0, 1)
    return png(fig)


def calibration(bins: list[dict[str, Any]]) -> str:
    """Reliability diagram: observed positive rate against mean predicted probability."""
    used = [b for b in bins if b["cells"]]
    fig = Figure(figsize=(4.5, 4))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfect")
    x = [b["mean_predicted"] for b in used]
    y = [b["observed"]["rate"] for b in used]
    low = [b["observed"]["rate"] - b["observed"]["ci95"][0] for b in used]
    high = [b["observed"]["ci95"][1] - b["observed"]["rate"] for b in used]
    ax.errorbar(x, y, yerr=[low, high], marker="o", color="#c62828", capsize=3, label="final")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed positive rate (gold), Wilson 95%")
    ax.legend(fontsize=8)
    return png(fig)


def gold_f1(per_source: dict[str, dict[str, Any]]) -> str:
    """F1 per label and source with its bootstrap 95% interval."""
    rows = [
        (source, label, m)
        for source, labels in sorted(per_source.items())
        for label, m in sorted(labels.items())
        if m["f1"] is not None
    ][: 2 * TOP][::-1]
    fig = Figure(figsize=(7, 0.3 * len(rows) + 1.2))
    ax = fig.add_subplot()
    sources = sorted(per_source)
    for y, (source, _, m) in enumerate(rows):
        ci = m["ci95"]["f1"] or [m["f1"], m["f1"]]
        color = f"C{sources.index(source)}"
        ax.hlines(y, ci[0], ci[1], color=color)  # the interval need not contain the point
        ax.plot(m["f1"], y, "o", color=color)
    ax.set_yticks(
        range(len(rows)), [f"{short(label, 24)} · {short(s, 24)}" for s, label, _ in rows]
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 with bootstrap 95% interval")
    return png(fig)


def gallery_item(item: Any, classes: list[dict[str, Any]]) -> str:
    """A label-map gallery picture: the image with its top-1 map's largest classes coloured."""
    image = shrink(item.image, GALLERY_SIDE)
    if image is None:
        return ""
    return data_uri(overlay(image, item.top1, [c["class"] for c in classes]))


def kappa_matrix(labelers: dict[str, Any]) -> tuple[list[str], list[list[float | None]]]:
    """Sources and their pairwise kappa as a symmetric matrix (1 on the diagonal)."""
    names = sorted(labelers["sources"])
    kappa = {(p["a"], p["b"]): p["kappa"] for p in labelers["pairs"]}
    kappa.update({(b, a): k for (a, b), k in list(kappa.items())})
    return names, [[1.0 if a == b else kappa.get((a, b)) for b in names] for a in names]


def figures(metrics: dict[str, Any], media: Any) -> dict[str, str]:
    """Every figure and picture of the page, by name, from the metrics and the media."""
    out: dict[str, str] = {}
    sources = metrics["distribution"]["sources"]
    for name, source in sources.items():
        if source["labels"]:
            out[f"labels:{name}"] = label_counts(source, short(name, 60))
        cooc = source["cooccurrence"]
        if len(cooc["labels"]) > 1:
            out[f"cooc:{name}"] = heatmap(
                cooc["counts"], cooc["labels"], cooc["labels"], f"{short(name, 60)}: co-occurrence"
            )
    if sources:
        out["labels_per_sample"] = labels_per_sample(sources)
    names, kappa = kappa_matrix(metrics["labelers"])
    if len(names) > 1:
        out["kappa"] = heatmap(kappa, names, names, "Cohen's kappa", "{:.2f}", -1.0, 1.0)
    for name, source in metrics["report_mining"]["sources"].items():
        if source["labels"]:
            out[f"mining:{name}"] = stacked_rates(source["labels"], short(name, 60))
    aggregation = metrics["aggregation"]
    if aggregation["samples_with_final"]:
        out["confidence"] = confidence(aggregation["confidence_histogram"])
    if aggregation["calibration"] and aggregation["calibration"]["cells"]:
        out["calibration"] = calibration(aggregation["calibration"]["bins"])
    gold = metrics["gold"]
    if gold and any(m["f1"] is not None for s in gold["per_source"].values() for m in s.values()):
        out["gold_f1"] = gold_f1(gold["per_source"])
    shown = {g["key"]: g["classes"] for g in metrics["label_maps"]["gallery"]}
    for item in media.gallery:
        out[f"map:{item.key}"] = gallery_item(item, shown[item.key])
    for key, thumbs in media.thumbs.items():
        for kind, uri in thumbs.items():
            out[f"{kind}:{key}"] = uri
    return out
