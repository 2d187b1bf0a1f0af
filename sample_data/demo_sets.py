"""The two demo sets, written by generate.py from the bundled studies and photos.

demo.csv: the chest X-ray studies with the metadata a hospital export carries (site, view,
sex, age) and the source labels its systems hold, three of them wrong on purpose (a billing
code that outlived its finding), plus the two broken rows. gold.csv: a radiologist's read of
every study, under the column names people write (`effusion`, `lung nodule`, `rib fracture`),
so the audit's gold harmonization has work to do. photos.csv: scikit-image's photos, tagged
with ImageNet class names, for the image-model demo.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

GOLD_COLUMNS = (
    "effusion",
    "pneumothorax",
    "Cardiomegaly",
    "lung nodule",
    "pneumonia",
    "atelectasis",
    "emphysema",
    "rib fracture",
)
# A radiologist's positives per study (by index); every other gold column is 0 for that study.
GOLD = {
    1: ("effusion", "atelectasis"),
    2: ("pneumonia",),
    3: ("Cardiomegaly",),
    4: ("pneumothorax",),
    5: ("lung nodule",),
    7: ("emphysema",),
    8: ("atelectasis",),
    9: ("Cardiomegaly", "effusion"),
    15: ("pneumonia",),
    16: ("Cardiomegaly", "effusion"),
    18: ("Cardiomegaly",),
    19: ("atelectasis",),
    22: ("pneumonia", "effusion"),
    23: ("pneumothorax",),
    24: ("effusion",),
    25: ("lung nodule",),
    26: ("Cardiomegaly",),
    29: ("emphysema", "lung nodule"),
}
UNKNOWN = {20: ("pneumonia",)}  # blank in gold: the reader could not tell
SOURCE_LABEL_ERRORS = {10: "pneumothorax", 14: "pleural effusion", 21: "nodule"}
# scikit-image photo -> ImageNet class names it shows (the model's own class strings)
PHOTOS = {
    "chelsea": "tabby, tabby cat",
    "coffee": "espresso|cup",
    "astronaut": "",
    "rocket": "missile",
}


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)


def study_rows(studies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chest studies with demo metadata and source labels (three wrong on purpose)."""
    rows = []
    for i, row in enumerate(studies):
        rows.append(
            {
                **row,
                "labels": SOURCE_LABEL_ERRORS.get(i, row["labels"]),
                "view": "AP" if i % 3 == 0 else "PA",
                "sex": "F" if i % 4 in (0, 3) else "M",
            }
        )
    rows.append(
        {"id": "study-missing", "image": "images/not-there.png", "report": "FINDINGS: Clear."}
    )
    rows.append({"id": "study-001", "image": "images/study-002.png", "report": "Duplicate id."})
    return rows


def gold_rows(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        row: dict[str, Any] = {"id": f"study-{i:03d}"}
        for column in GOLD_COLUMNS:
            known = column not in UNKNOWN.get(i, ())
            row[column] = int(column in GOLD.get(i, ())) if known else ""
        rows.append(row)
    rows.append({"id": "study-999", **dict.fromkeys(GOLD_COLUMNS, 0)})  # not in the build
    return rows


def write_demo_sets(here: Path, studies: list[dict[str, Any]]) -> None:
    """demo.csv and gold.csv from the studies' manifest rows; photos.csv and its images."""
    import skimage.data
    from PIL import Image

    columns = ["id", "image", "report", "report_path", "labels", "site", "view", "sex", "age"]
    write_csv(here / "demo.csv", columns, study_rows(studies))
    write_csv(here / "gold.csv", ["id", *GOLD_COLUMNS], gold_rows(len(studies)))
    rows = []
    for name, labels in PHOTOS.items():
        path = here / "images" / f"{name}.jpg"
        if not path.exists():
            Image.fromarray(getattr(skimage.data, name)()).save(path, quality=90)
        rows.append({"id": f"photo-{name}", "image": f"images/{name}.jpg", "labels": labels})
    write_csv(here / "photos.csv", ["id", "image", "labels"], rows)
