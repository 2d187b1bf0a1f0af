"""Per-sample aggregation cost: the build's majority finalizer and the audit's aggregation step.

Synthetic samples shaped like a reports + manifest-labels build: 14 ChestX-ray14 labels, the
manifest's labels and the report miner's (1, 0 and -1, with evidence) as two records. Baseline
in the same run: a plain tally of the same votes (counting 1s and 0s per label, nothing else).
CPU time per sample, best of `--rounds`; the goal is <= 30 us per sample for both steps.

    .venv/bin/python benchmarks/aggregation.py [--samples 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from labelmill.audit.aggregation import Aggregation
from labelmill.audit.read import ShardSample
from labelmill.audit.votes import sample_votes as audit_votes
from labelmill.labelers.aggregate import aggregator_from_config
from labelmill.schemas.ontology import load_ontology
from labelmill.schemas.records import LabelRecord

GOAL_US = 30.0


def make_samples(count: int, labels: list[str]) -> list[list[LabelRecord]]:
    """Each sample: the manifest's 0-2 positive labels and 1-4 findings mined from a report."""
    rng = random.Random(0)
    samples = []
    for _ in range(count):
        manifest = {label: 1 for label in rng.sample(labels, rng.randint(0, 2))}
        found = rng.sample(labels, rng.randint(1, 4))
        mined = {label: rng.choice((1, 0, 0, -1)) for label in found}
        evidence = [{"label": k, "sentence": "No effusion.", "start": 0, "end": 12} for k in mined]
        samples.append(
            [
                LabelRecord("manifest_labels", labels=manifest),
                LabelRecord("reports/chestxray14", labels=mined, evidence=evidence),
            ]
        )
    return samples


def plain_tally(records: list[LabelRecord], labels: list[str]) -> dict[str, float]:
    """The baseline: share of positives among the 1/0 votes, per label."""
    out = {}
    for label in labels:
        votes = [r.labels[label] for r in records if label in r.labels]
        positive, negative = votes.count(1), votes.count(0)
        if positive + negative:
            out[label] = positive / (positive + negative)
    return out


def per_sample_us(step: Callable[[], object], count: int, rounds: int) -> float:
    """Best-of-rounds CPU microseconds per sample of `step` (which runs over all samples)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        step()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    labels = load_ontology("chestxray14").labels
    samples = make_samples(args.samples, labels)
    finalize = aggregator_from_config({"method": "majority", "ontology": "chestxray14"})
    docs = [
        {"key": f"s{i}", "id": f"s{i}", "records": [r.to_json() for r in records]}
        for i, records in enumerate(samples)
    ]
    for doc, records in zip(docs, samples, strict=True):
        doc["final"] = finalize(records)
    shard_samples = [ShardSample(doc["key"], doc) for doc in docs]
    votes = [audit_votes(doc) for doc in docs]

    def audit_step() -> None:
        aggregation = Aggregation()
        for sample, sample_votes in zip(shard_samples, votes, strict=True):
            aggregation.add(sample, sample_votes)

    n, rounds = args.samples, args.rounds
    tally = per_sample_us(lambda: [plain_tally(r, labels) for r in samples], n, rounds)
    build = per_sample_us(lambda: [finalize(r) for r in samples], n, rounds)
    audit = per_sample_us(audit_step, n, rounds)
    print(f"{n:,} samples, {len(labels)} labels, 2 records each; CPU per sample, best of {rounds}")
    print(f"plain tally (baseline)       {tally:7.1f} us")
    for name, value in (("build finalizer (majority)", build), ("audit aggregation step", audit)):
        verdict = "met" if value <= GOAL_US else "missed"
        ratio = value / tally
        print(f"{name:<28} {value:7.1f} us  {ratio:4.1f}x the tally  goal <= 30 us: {verdict}")


if __name__ == "__main__":
    main()
