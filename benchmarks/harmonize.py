"""Harmonizer benchmark on labelled raw -> canonical pairs (benchmarks/data/harmonize_pairs.csv).

    python benchmarks/harmonize.py                       # --llm none on the held-out split
    python benchmarks/harmonize.py --llm none --llm local
    python benchmarks/harmonize.py --calibrate           # grid search on the calibration split

Each pair belongs to the calibration or the held-out ("test") split by a hash of its ontology and
raw string, so nobody picks which strings are hard. Thresholds are chosen on "calib" only and the
figures that count are those on "test". A row with an empty label is a negative control: any
label given to it is a wrong mapping.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from labelmill.labelers.harmonize import Decision, Harmonizer, Thresholds
from labelmill.labelers.harmonize.embedding import load_encoder

DATA = Path(__file__).parent / "data" / "harmonize_pairs.csv"
MAX_NEGATIVE_RATE = 0.05  # calibration keeps half the 10% budget in reserve for unseen strings


@dataclass(frozen=True)
class Pair:
    ontology: str
    raw: str
    label: str | None
    kind: str

    @property
    def split(self) -> str:
        digest = hashlib.sha256(f"{self.ontology}\t{self.raw}".encode()).digest()
        return "calib" if digest[0] % 2 == 0 else "test"


def load_pairs(path: Path) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Pair(row["ontology"], row["raw"], row["label"] or None, row["kind"])
            for row in csv.DictReader(handle)
        ]


@dataclass
class Score:
    """The benchmark's figures for one set of pairs and decisions."""

    mappable: int = 0
    right: int = 0
    negatives: int = 0
    wrong_negatives: int = 0

    def add(self, pair: Pair, decision: Decision) -> None:
        if pair.label is None:
            self.negatives += 1
            self.wrong_negatives += decision.label is not None
        else:
            self.mappable += 1
            self.right += decision.label == pair.label

    @property
    def accuracy(self) -> float:
        return self.right / max(self.mappable, 1)

    @property
    def negative_rate(self) -> float:
        return self.wrong_negatives / max(self.negatives, 1)


def score(pairs: list[Pair], decisions: dict[tuple[str, str], Decision]) -> Score:
    total = Score()
    for pair in pairs:
        total.add(pair, decisions[(pair.ontology, pair.raw)])
    return total


def run(pairs: list[Pair], llm: str, encoder: object, cache_dir: str | None) -> None:
    """Map every ontology's strings with one harmonizer and print the figures."""
    decisions: dict[tuple[str, str], Decision] = {}
    elapsed, loading = 0.0, 0.0
    for ontology in sorted({p.ontology for p in pairs}):
        started = time.perf_counter()
        harmonizer = Harmonizer(ontology, llm=llm, cache_dir=cache_dir, encoder=encoder)
        harmonizer.map(["warm up the models"])
        if harmonizer.backend is not None:  # load the LLM too, so that only answers are timed
            harmonizer.backend.choose("warm up", harmonizer.ontology.concepts[:2])
        loading += time.perf_counter() - started
        strings = [p.raw for p in pairs if p.ontology == ontology]
        started = time.perf_counter()
        for raw, decision in harmonizer.map(strings).items():
            decisions[(ontology, raw)] = decision
        elapsed += time.perf_counter() - started
    print(f"\n== --llm {llm}  ({len(pairs)} pairs; setup {loading:.1f} s, not counted below)")
    print(f"{'ontology':<12} {'mappable right':>18} {'negatives labelled':>20}")
    for ontology in [*sorted({p.ontology for p in pairs}), "all"]:
        subset = [p for p in pairs if ontology in ("all", p.ontology)]
        s = score(subset, decisions)
        print(
            f"{ontology:<12} {s.right:>4}/{s.mappable:<4} {s.accuracy:6.1%}"
            f" {s.wrong_negatives:>6}/{s.negatives:<4} {s.negative_rate:6.1%}"
        )
    print(f"{'step':<10} {'mapped':>7} {'right':>6} {'precision':>10} {'share of mappable':>18}")
    mappable = [p for p in pairs if p.label is not None]
    for method in ("lexical", "embedding", "llm"):
        hits = [p for p in pairs if decisions[(p.ontology, p.raw)].method == method]
        right = sum(decisions[(p.ontology, p.raw)].label == p.label for p in hits)
        share = sum(p.label is not None for p in hits) / max(len(mappable), 1)
        precision = right / max(len(hits), 1)
        print(f"{method:<10} {len(hits):>7} {right:>6} {precision:>10.1%} {share:>18.1%}")
    unmapped = sum(d.label is None for d in decisions.values())
    print(f"unmapped   {unmapped:>7}")
    asked = [d for d in decisions.values() if d.prompt_version]
    outcome = Counter("kept" if d.method == "llm" else d.reason.split(":")[0] for d in asked)
    print(
        f"LLM: {len(asked)} strings reached it; kept {outcome['kept']}, answered none "
        f"{outcome['llm']}, overruled {outcome['llm overruled']}, errors {outcome['llm error']}"
    )
    wrong = [
        (p, decisions[(p.ontology, p.raw)])
        for p in pairs
        if decisions[(p.ontology, p.raw)].label not in (p.label, None)
    ]
    for p, d in wrong:
        got = f"{d.label} ({d.method} {d.score:.2f})"
        print(f"  wrong: [{p.ontology}] {p.raw!r} -> {got}; gold {p.label or 'none'}")
    print(f"throughput: {len(pairs) / elapsed:.0f} strings/s ({elapsed:.2f} s, cold cache)")


def calibrate(pairs: list[Pair], encoder: object) -> Thresholds:
    """Grid search on `pairs`: best accuracy with at most 5% of the negatives labelled; then the
    lowest LLM floor at which even an LLM that always names the top candidate labels no more
    negatives than the cascade without it."""
    evidence = {}
    harmonizers = {}
    for ontology in sorted({p.ontology for p in pairs}):
        harmonizers[ontology] = Harmonizer(ontology, encoder=encoder)
        strings = [p.raw for p in pairs if p.ontology == ontology]
        for raw, analysis, ranked in harmonizers[ontology].evidence(strings):
            evidence[(ontology, raw)] = (analysis, ranked)

    def decide(t: Thresholds, backend: object = None) -> dict[tuple[str, str], Decision]:
        out = {}
        for (ontology, raw), (analysis, ranked) in evidence.items():
            harmonizers[ontology].thresholds = t
            harmonizers[ontology].backend = backend
            out[(ontology, raw)] = harmonizers[ontology].decide(raw, analysis, ranked)
        return out

    base = Thresholds()
    best: tuple[float, float, Thresholds] | None = None
    accepts = [round(0.50 + 0.02 * i, 2) for i in range(21)]
    margins = [0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.10]
    for accept, margin in itertools.product(accepts, margins):
        t = replace(base, accept=accept, margin=margin, floor=accept)
        s = score(pairs, decide(t))
        if s.negative_rate <= MAX_NEGATIVE_RATE:
            key = (s.accuracy, accept + margin)  # ties: the stricter rule
            if best is None or key > best[:2]:
                best = (*key, t)
    assert best is not None, "no threshold keeps the negatives under the limit"
    chosen = best[2]
    without = score(pairs, decide(chosen))
    for floor in [round(chosen.accept - 0.01 * i, 2) for i in range(1, 30)]:
        worst = score(pairs, decide(replace(chosen, floor=floor), AlwaysFirst()))
        if worst.wrong_negatives > without.wrong_negatives:
            break
        chosen = replace(chosen, floor=floor)
    print(f"calibrated on {len(pairs)} pairs: {asdict(chosen)}")
    print(
        f"  --llm none on them: {without.accuracy:.1%} right, "
        f"{without.negative_rate:.1%} negatives labelled"
    )
    return chosen


class AlwaysFirst:
    """The worst LLM for the negatives: it always names the embedding step's top candidate."""

    model_id = "always-first"

    def choose(self, raw: str, candidates: list) -> str:
        return candidates[0].name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--llm", action="append", help="none | local | URL (repeatable)")
    parser.add_argument("--ontology", action="append", help="only these ontologies")
    parser.add_argument("--split", choices=["calib", "test", "all"], default="test")
    parser.add_argument("--calibrate", action="store_true", help="grid search on --split calib")
    parser.add_argument("--cache-dir", default=None, help="decision cache (default: none)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pairs = [p for p in load_pairs(args.data) if p.ontology in (args.ontology or [p.ontology])]
    if args.calibrate:
        args.split = "calib"
    chosen = [p for p in pairs if args.split in ("all", p.split)]
    counts = Counter((p.split, p.label is None) for p in pairs)
    print(
        f"{len(pairs)} pairs: calib {counts[('calib', False)]} mappable + "
        f"{counts[('calib', True)]} negative, test {counts[('test', False)]} + "
        f"{counts[('test', True)]}; reporting on {args.split}"
    )
    encoder = load_encoder()
    if args.calibrate:
        calibrate(chosen, encoder)
        return 0
    for llm in args.llm or ["none"]:
        run(chosen, llm, encoder, args.cache_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
