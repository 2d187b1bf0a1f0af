"""Benchmark report mining on the OpenI (Indiana University) chest X-ray reports.

Fetches the torchxrayvision 1.5.7 wheel with pip (it ships the OpenI report XML), derives gold
for the 14 ChestX-ray14 labels from each report's MeSH major terms, labels FINDINGS + IMPRESSION
and prints per-label precision/recall/F1, micro and macro F1, and reports/s on one core.

Only the dev split (report id % 5 != 0) is read; the other fifth is held out for acceptance and
is skipped by file name before its XML is parsed.

    python benchmarks/report_mining.py [--cache-dir DIR] [--show-errors LABEL] [--compare-spacy]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from labelmill.labelers.reports.engine import LabelResult, ReportEngine
from labelmill.labelers.reports.labeler import get_engine
from labelmill.labelers.reports.sections import Sentence, find_sections
from labelmill.schemas.ontology import load_ontology

WHEEL = "torchxrayvision==1.5.7"
REPORTS_MEMBER = "torchxrayvision/data/NLMCXR_reports.tgz"
# The 14 ChestX-ray14 labels in their usual order (the first 8 are the original ChestX-ray8).
LABELS = load_ontology("chestxray14").labels
# MeSH major heading (before the first "/") -> ChestX-ray14 label.
MESH_TO_LABEL = {
    "Pulmonary Atelectasis": "Atelectasis",
    "Cardiomegaly": "Cardiomegaly",
    "Pleural Effusion": "Effusion",
    "Infiltrate": "Infiltration",
    "Mass": "Mass",
    "Nodule": "Nodule",
    "Pneumonia": "Pneumonia",
    "Pneumothorax": "Pneumothorax",
    "Consolidation": "Consolidation",
    "Pulmonary Edema": "Edema",
    "Emphysema": "Emphysema",
    "Pulmonary Emphysema": "Emphysema",
    "Pulmonary Fibrosis": "Fibrosis",
    "Fibrosis": "Fibrosis",
    "Hernia, Hiatal": "Hernia",
}


@dataclass(frozen=True)
class Report:
    id: int
    text: str
    gold: frozenset[str]


def fetch_wheel(cache_dir: Path) -> Path:
    """Download the wheel once with pip into the cache and return its path."""
    wheels = cache_dir / "wheels"
    found = sorted(wheels.glob("torchxrayvision-1.5.7-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), WHEEL],
            check=True,
        )
        found = sorted(wheels.glob("torchxrayvision-1.5.7-*.whl"))
    return found[0]


def gold_labels(majors: list[str]) -> frozenset[str]:
    """ChestX-ray14 labels named by MeSH major terms; Thickening counts only for the pleura."""
    labels = set()
    for term in majors:
        heading, *qualifiers = term.split("/")
        heading = heading.strip()
        if heading in MESH_TO_LABEL:
            labels.add(MESH_TO_LABEL[heading])
        elif heading == "Thickening" and any("pleura" in q.lower() for q in qualifiers):
            labels.add("Pleural_Thickening")
    return frozenset(labels)


def dev_reports(wheel: Path) -> Iterator[Report]:
    """Dev-split reports with FINDINGS and/or IMPRESSION, in id order."""
    with zipfile.ZipFile(wheel) as archive:
        reports = tarfile.open(fileobj=io.BytesIO(archive.read(REPORTS_MEMBER)))
    members = []
    for member in reports.getmembers():
        stem = Path(member.name).stem
        if member.isfile() and member.name.endswith(".xml") and stem.isdigit():
            if int(stem) % 5 != 0:  # the held-out fifth is never opened
                members.append((int(stem), member))
    for report_id, member in sorted(members, key=lambda item: item[0]):
        root = ET.fromstring(reports.extractfile(member).read())
        sections = {a.get("Label"): (a.text or "").strip() for a in root.iter("AbstractText")}
        parts = [
            f"{name}: {sections[name]}" for name in ("FINDINGS", "IMPRESSION") if sections.get(name)
        ]
        if parts:
            majors = [m.text or "" for m in root.iter("major")]
            yield Report(report_id, "\n".join(parts), gold_labels(majors))


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def score(
    reports: list[Report], predicted: list[dict[str, int]], positive: set[int]
) -> dict[str, tuple[int, int, int]]:
    """Per-label (tp, fp, fn), counting the values in `positive` as a positive prediction."""
    counts = {}
    for label in LABELS:
        tp = fp = fn = 0
        for report, labels in zip(reports, predicted, strict=True):
            said = labels.get(label) in positive
            truth = label in report.gold
            tp += said and truth
            fp += said and not truth
            fn += truth and not said
        counts[label] = (tp, fp, fn)
    return counts


def summary(counts: dict[str, tuple[int, int, int]]) -> tuple[float, float, float]:
    """Micro F1 over 14 labels, macro F1 over 14, micro F1 over the first 8."""

    def micro(labels: list[str]) -> float:
        sums = [sum(counts[label][i] for label in labels) for i in range(3)]
        return f1(*sums)[2]

    macro = sum(f1(*counts[label])[2] for label in LABELS) / len(LABELS)
    return micro(LABELS), macro, micro(LABELS[:8])


def print_table(counts: dict[str, tuple[int, int, int]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'label':<20}{'n':>5}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>8}{'R':>8}{'F1':>8}")
    for label, (tp, fp, fn) in counts.items():
        p, r, f = f1(tp, fp, fn)
        print(f"{label:<20}{tp + fn:>5}{tp:>5}{fp:>5}{fn:>5}{p:>8.3f}{r:>8.3f}{f:>8.3f}")


def show_errors(reports: list[Report], predicted: list[dict], label: str) -> None:
    """Print the dev reports where `label` is wrong, with the mined evidence (for study)."""
    for report, result in zip(reports, predicted, strict=True):
        said = result["labels"].get(label) == 1
        if said != (label in report.gold):
            kind = "FP" if said else "FN"
            print(f"--- {kind} {report.id} gold={sorted(report.gold)}\n{report.text}")
            for item in result["evidence"]:
                if item["label"] == label:
                    print(f"    {item['status']:>2} {item['trigger']}: {item['sentence']}")


def spacy_sentences() -> Callable[[str], list[Sentence]]:
    """A splitter on spaCy's blank English tokenizer and rule-based sentencizer, within sections."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")

    def split(text: str) -> list[Sentence]:
        return [
            Sentence(start + s.start_char, start + s.end_char, section)
            for section, start, end in find_sections(text)
            for s in nlp(text[start:end]).sents
            if s.text.strip()
        ]

    return split


def timed(engine: ReportEngine, reports: list[Report]) -> tuple[list[LabelResult], float]:
    """Label every report three times in this process; return results and the best reports/s."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        results = [engine.label(report.text) for report in reports]
        best = min(best, time.perf_counter() - started)
    return results, len(reports) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "labelmill")
    parser.add_argument("--show-errors", metavar="LABEL", help="print dev errors for a label")
    parser.add_argument(
        "--compare-spacy", action="store_true", help="also run with spaCy's sentence splitting"
    )
    args = parser.parse_args()

    reports = list(dev_reports(fetch_wheel(args.cache_dir)))
    engine = get_engine("chestxray14")
    results, speed = timed(engine, reports)
    predicted = [r.labels for r in results]
    if args.show_errors:
        detailed = [{"labels": r.labels, "evidence": r.evidence} for r in results]
        show_errors(reports, detailed, args.show_errors)

    print(f"OpenI dev split (id % 5 != 0): {len(reports)} reports with findings or impression")
    lines = []
    for positive, name in (({1}, "1 = positive"), ({1, -1}, "1 and -1 = positive")):
        counts = score(reports, predicted, positive)
        print_table(counts, f"Counting {name}")
        lines.append((name, *summary(counts)))
    print()
    for name, micro14, macro14, micro8 in lines:
        print(
            f"[{name}] micro-F1 (14): {micro14:.3f}  macro-F1 (14): {macro14:.3f}  "
            f"micro-F1 (first 8): {micro8:.3f}"
        )
    print(f"speed: {speed:,.0f} reports/s on one core (best of 3 passes over the dev split)")
    if args.compare_spacy:
        spacy_engine = ReportEngine(engine.ontology, splitter=spacy_sentences())
        spacy_results, spacy_speed = timed(spacy_engine, reports)
        micro14, _, micro8 = summary(score(reports, [r.labels for r in spacy_results], {1}))
        print(
            f"with spaCy sentences (blank en + sentencizer): micro-F1 (14) {micro14:.3f}, "
            f"(first 8) {micro8:.3f}, {spacy_speed:,.0f} reports/s"
        )


if __name__ == "__main__":
    main()
