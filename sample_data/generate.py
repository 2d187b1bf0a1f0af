"""Regenerate the bundled sample data (committed, so the demo needs nothing but the repo).

Images: chest radiograph-like pictures drawn here, real DICOM files shipped inside pydicom, and
real photos from scikit-image. Reports: written for this sample in radiology style. Two rows
are broken on purpose (a missing file, a repeated id) so that builds show rejects.
manifest.csv has every kind of input (the test suite builds it); demo.csv, gold.csv and
photos.csv are the two demos' sets (`demo_sets.py`).

    .venv/bin/python sample_data/generate.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from demo_sets import write_csv, write_demo_sets
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent

REPORTS = [
    (
        "FINDINGS: The lungs are clear. Heart size is normal. No pleural effusion or pneumothorax.\n"
        "IMPRESSION: No acute cardiopulmonary abnormality.",
        "",
    ),
    (
        "FINDINGS: Small left pleural effusion with adjacent basilar atelectasis. Heart size is normal."
        "\nIMPRESSION: Small left effusion and atelectasis.",
        "pleural effusion|atelectasis",
    ),
    (
        "INDICATION: Evaluate for pneumonia.\nFINDINGS: Right lower lobe consolidation, compatible "
        "with pneumonia in the appropriate clinical setting. No effusion.\nIMPRESSION: Right lower "
        "lobe pneumonia.",
        "Pneumonia|consolidation",
    ),
    (
        "FINDINGS: The heart is enlarged. Pulmonary vascular congestion and interstitial edema.\n"
        "IMPRESSION: Cardiomegaly with mild pulmonary edema, likely CHF.",
        "cardiomegaly|CHF",
    ),
    (
        "FINDINGS: Large right-sided pneumothorax with partial collapse of the right lung. No "
        "mediastinal shift.\nIMPRESSION: Large right pneumothorax.",
        "PTX",
    ),
    (
        "FINDINGS: 1.2 cm nodule in the left upper lobe. Lungs otherwise clear. No effusion.\n"
        "IMPRESSION: Left upper lobe nodule; CT recommended.",
        "pulmonary nodule",
    ),
    (
        "HISTORY: History of pneumonia.\nFINDINGS: The previously described opacity has resolved. "
        "Lungs are clear.\nIMPRESSION: Resolution of prior pneumonia. No acute disease.",
        "",
    ),
    (
        "FINDINGS: Hyperinflated lungs with flattened diaphragms consistent with emphysema. No "
        "focal consolidation.\nIMPRESSION: Emphysema.",
        "COPD|emphysema",
    ),
    (
        "FINDINGS: Bibasilar opacities may represent atelectasis or early infiltrate. Heart size "
        "upper limits of normal.\nIMPRESSION: Bibasilar opacities, possibly atelectasis.",
        "opacity",
    ),
    (
        "FINDINGS: Stable cardiomegaly. No change in the small bilateral effusions.\n"
        "IMPRESSION: No change. Cardiomegaly and small bilateral pleural effusions.",
        "cardiomegaly|effusions",
    ),
    (
        "COMPARISON: Prior radiograph.\nFINDINGS: Interval removal of the right chest tube. No "
        "pneumothorax. Lungs clear.\nIMPRESSION: No pneumothorax after chest tube removal.",
        "",
    ),
    (
        "FINDINGS: Large hiatal hernia projecting behind the heart. Lungs are clear.\n"
        "IMPRESSION: Hiatal hernia.",
        "hiatal hernia",
    ),
    (
        "FINDINGS: Coarse interstitial markings at the bases, fibrotic changes. No effusion.\n"
        "IMPRESSION: Chronic basilar fibrosis.",
        "pulmonary fibrosis",
    ),
    (
        "FINDINGS: 4 cm mass in the right hilum. Right pleural thickening.\nIMPRESSION: Right hilar "
        "mass, malignancy not excluded.",
        "lung mass|pleural thickening",
    ),
    (
        "FINDINGS: No focal consolidation, effusion, or pneumothorax. The cardiomediastinal "
        "silhouette is within normal limits.\nIMPRESSION: Normal chest.",
        "",
    ),
    (
        "FINDINGS: Patchy airspace opacities in both lungs, question of multifocal pneumonia.\n"
        "IMPRESSION: Multifocal opacities, pneumonia not excluded.",
        "infiltrate",
    ),
    (
        "FINDINGS: Mild cardiomegaly. Small right pleural effusion. No pneumothorax.\n"
        "IMPRESSION: Mild cardiomegaly and small right effusion.",
        "cardiomegaly|R pleural eff.",
    ),
    (
        "FINDINGS: Subcutaneous emphysema in the left chest wall. No pneumothorax. Lungs clear.\n"
        "IMPRESSION: Subcutaneous emphysema without pneumothorax.",
        "subcutaneous emphysema",
    ),
    (
        "FINDINGS: Pericardial effusion is suspected given the enlarged globular cardiac silhouette. "
        "No pleural effusion.\nIMPRESSION: Enlarged cardiac silhouette.",
        "pericardial effusion",
    ),
    (
        "FINDINGS: Left lower lobe atelectasis. Heart is normal in size.\nIMPRESSION: Left lower "
        "lobe atelectasis.",
        "atelectasis",
    ),
    (
        "FINDINGS: Diffuse bilateral interstitial infiltrates. No effusion.\nIMPRESSION: Diffuse "
        "interstitial infiltrates; differential includes edema or atypical infection.",
        "infiltration",
    ),
    (
        "FINDINGS: Clear lungs. Normal heart size. Degenerative changes of the spine.\n"
        "IMPRESSION: No active disease.",
        "",
    ),
    (
        "FINDINGS: Right upper lobe consolidation. Small right effusion.\nIMPRESSION: Right upper "
        "lobe pneumonia with parapneumonic effusion.",
        "pneumonia|pleural effusion",
    ),
    (
        "FINDINGS: Tiny apical pneumothorax on the left, decreased from prior. No effusion.\n"
        "IMPRESSION: Small left apical pneumothorax.",
        "pneumothorax",
    ),
    (
        "FINDINGS: No pneumothorax but a small left effusion. Heart size is normal.\n"
        "IMPRESSION: Small left pleural effusion.",
        "effusion",
    ),
    (
        "FINDINGS: Multiple bilateral pulmonary nodules, the largest 8 mm.\nIMPRESSION: Multiple "
        "pulmonary nodules, metastatic disease not excluded.",
        "nodules",
    ),
    (
        "FINDINGS: Heart is slightly large. Lungs clear.\nIMPRESSION: Borderline cardiomegaly.",
        "enlarged heart",
    ),
    (
        "FINDINGS: Pleural capping at the right apex. No focal airspace disease.\nIMPRESSION: Right "
        "apical pleural thickening.",
        "pleural thickening",
    ),
    (
        "FINDINGS: No evidence of edema. Heart size normal. No effusion.\nIMPRESSION: Clear chest.",
        "",
    ),
    (
        "FINDINGS: Emphysema with bullous changes at the apices. Nodular opacity in the right lower "
        "lobe.\nIMPRESSION: Emphysema; right lower lobe nodular opacity.",
        "emphysema|nodule",
    ),
]
DICOMS = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm"]
PHOTOS = ["chelsea", "coffee", "astronaut"]


def radiograph(seed: int, size: int = 256) -> Image.Image:
    """A chest radiograph-like picture: dark lungs in a bright body, heart and spine."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", (size, size), 30)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 10, size - 20, size + 40), fill=170)
    for x0 in (45, size // 2 + 10):
        draw.ellipse((x0, 40, x0 + 75 + rng.integers(-8, 8), 215 + rng.integers(-10, 10)), fill=60)
    heart = 40 + int(rng.integers(0, 30))
    draw.ellipse((size // 2 - 20, 120, size // 2 + heart, 200), fill=190)
    draw.rectangle((size // 2 - 6, 0, size // 2 + 6, size), fill=210)
    noise = rng.normal(0, 8, (size, size))
    array = np.clip(np.asarray(image.filter(ImageFilter.GaussianBlur(6)), float) + noise, 0, 255)
    return Image.fromarray(array.astype(np.uint8))


def main() -> None:
    import pydicom
    import skimage.data

    images = HERE / "images"
    reports = HERE / "reports"
    for folder in (images, reports):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    rows = []
    for i, (report, labels) in enumerate(REPORTS):
        sid = f"study-{i:03d}"
        radiograph(i).save(images / f"{sid}.png")
        if i % 2:
            (reports / f"{sid}.txt").write_text(report + "\n")
            rows.append(
                {
                    "id": sid,
                    "image": f"images/{sid}.png",
                    "report_path": f"reports/{sid}.txt",
                    "labels": labels,
                    "site": "A",
                    "age": 40 + i,
                }
            )
        else:
            rows.append(
                {
                    "id": sid,
                    "image": f"images/{sid}.png",
                    "report": report,
                    "labels": labels,
                    "site": "B",
                    "age": 40 + i,
                }
            )
    test_files = Path(pydicom.__file__).parent / "data" / "test_files"
    for name in DICOMS:
        shutil.copy(test_files / name, images / name)
        rows.append({"id": f"dicom-{Path(name).stem}", "image": f"images/{name}", "site": "C"})
    for name in PHOTOS:
        Image.fromarray(getattr(skimage.data, name)()).save(images / f"{name}.jpg", quality=90)
        rows.append({"id": f"photo.{name}", "image": f"images/{name}.jpg", "labels": name})
    rows.append(
        {"id": "study-missing", "image": "images/not-there.png", "report": "FINDINGS: Clear."}
    )
    rows.append({"id": "study-001", "image": "images/study-002.png", "report": "Duplicate id."})
    columns = ["id", "image", "report", "report_path", "labels", "site", "age"]
    write_csv(HERE / "manifest.csv", columns, rows)
    write_demo_sets(HERE, rows[: len(REPORTS)])


if __name__ == "__main__":
    main()
