"""Dev-split reports and their gold labels for `report_mining.py`, from the torchxrayvision wheel.

OpenI: the text is FINDINGS then IMPRESSION; gold comes from the manual MeSH major terms, mapped
onto ChestX-ray14 (the team's mapping) and onto CheXpert (the report-mining issue's mapping).
PadChest: physician-labelled reports, one per ReportID; gold for the ChestX-ray14 findings comes
from PadChest's label names by `PADCHEST_TO_CHESTXRAY14` below. Held-out rows (OpenI id % 5 == 0,
PadChest int(ReportID) % 5 == 0) are dropped as they are read, before anything else is parsed.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WHEEL = "torchxrayvision==1.5.7"
OPENI_MEMBER = "torchxrayvision/data/NLMCXR_reports.tgz"
PADCHEST_MEMBER = "torchxrayvision/data/PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz"
# MeSH major heading (before the first "/") -> ChestX-ray14 label.
MESH_TO_CHESTXRAY14 = {
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
# MeSH heading -> CheXpert labels (the report-mining issue's mapping); qualified ones below.
MESH_TO_CHEXPERT = {
    "Cardiomegaly": ("Cardiomegaly",),
    "Pleural Effusion": ("Pleural Effusion",),
    "Hydropneumothorax": ("Pleural Effusion", "Pneumothorax"),
    "Hemopneumothorax": ("Pleural Effusion", "Pneumothorax"),
    "Hemothorax": ("Pleural Effusion",),
    "Pneumothorax": ("Pneumothorax",),
    "Pulmonary Atelectasis": ("Atelectasis",),
    "Pulmonary Edema": ("Edema",),
    "Pulmonary Congestion": ("Edema",),
    "Heart Failure": ("Edema",),
    "Consolidation": ("Consolidation", "Lung Opacity"),
    "Pneumonia": ("Pneumonia",),
    "Mass": ("Lung Lesion",),
    "Nodule": ("Lung Lesion",),
    "Fractures, Bone": ("Fracture",),
    "Infiltrate": ("Lung Opacity",),
    "Airspace Disease": ("Lung Opacity",),
    "Catheters, Indwelling": ("Support Devices",),
    "Implanted Medical Device": ("Support Devices",),
    "Medical Device": ("Support Devices",),
    "Tube, Inserted": ("Support Devices",),
    "Stents": ("Support Devices",),
}
# PadChest label name -> ChestX-ray14 label. Only names that are the ChestX-ray14 finding itself
# or a named kind of it; signs that often go with a finding but are labelled apart by PadChest's
# physicians ("costophrenic angle blunting", "alveolar pattern", "interstitial pattern",
# "pseudonodule", "fibrotic band", "volume loss") are not mapped, nor are findings outside the
# lung and pleura ("subcutaneous emphysema", "pericardial effusion", "soft tissue mass",
# "breast mass") or other hernias.
PADCHEST_TO_CHESTXRAY14 = {
    **dict.fromkeys(
        (
            "atelectasis",
            "laminar atelectasis",
            "lobar atelectasis",
            "segmental atelectasis",
            "atelectasis basal",
            "total atelectasis",
            "round atelectasis",
        ),
        "Atelectasis",
    ),
    "cardiomegaly": "Cardiomegaly",
    **dict.fromkeys(
        ("pleural effusion", "loculated pleural effusion", "loculated fissural effusion"),
        "Effusion",
    ),
    "infiltrates": "Infiltration",
    **dict.fromkeys(("mass", "pulmonary mass", "mediastinal mass", "pleural mass"), "Mass"),
    **dict.fromkeys(("nodule", "multiple nodules"), "Nodule"),
    **dict.fromkeys(("pneumonia", "atypical pneumonia"), "Pneumonia"),
    "pneumothorax": "Pneumothorax",
    "consolidation": "Consolidation",
    "pulmonary edema": "Edema",
    "emphysema": "Emphysema",
    "pulmonary fibrosis": "Fibrosis",
    **dict.fromkeys(
        (
            "pleural thickening",
            "apical pleural thickening",
            "calcified pleural thickening",
            "pleural plaques",
            "calcified pleural plaques",
            "minor fissure thickening",
            "major fissure thickening",
            "fissure thickening",
        ),
        "Pleural_Thickening",
    ),
    "hiatal hernia": "Hernia",
}


@dataclass(frozen=True)
class Report:
    id: int
    text: str
    gold: frozenset[str]
    majors: tuple[str, ...] = ()
    places: frozenset[tuple[str, str, str]] = frozenset()  # (label, axis, value), as annotated


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


# Location words of the annotations -> (axis, value), the values the miner's language files use.
_SIDES = (("bilateral", "bilateral"), ("left", "left"), ("right", "right"))
_ZONES = (
    ("upper lobe", "upper"),
    ("apex", "upper"),
    ("apical", "upper"),
    ("upper lung field", "upper"),
    ("middle lobe", "middle"),
    ("middle lung field", "middle"),
    ("lingula", "middle"),
    ("lower lobe", "lower"),
    ("base", "lower"),
    ("basal", "lower"),
    ("lower lung field", "lower"),
    ("costophrenic angle", "lower"),
)


def place_of(words: str) -> list[tuple[str, str]]:
    """(axis, value) pairs one location annotation names ("base/left", "right upper lobe")."""
    text = words.lower()
    found = [("side", v) for k, v in _SIDES if re.search(rf"\b{k}\b", text)]
    found = found[:1]  # "bilateral" wins over the side it also names
    zones = [("zone", v) for k, v in _ZONES if re.search(rf"\b{k}\b", text)]
    return found + zones[:1]


def openi_places(majors: tuple[str, ...]) -> frozenset[tuple[str, str, str]]:
    """(label, axis, value) from MeSH terms with location qualifiers ("Nodule/lung/base/left")."""
    places = set()
    for term in majors:
        heading, *qualifiers = term.split("/")
        for label in chestxray14_gold([term]):
            for qualifier in qualifiers:
                places.update((label, axis, value) for axis, value in place_of(qualifier))
    return frozenset(places)


def padchest_places(value: str) -> frozenset[tuple[str, str, str]]:
    """(label, axis, value) from `LabelsLocalizationsBySentence`: each sentence's names and locs."""
    try:
        sentences = ast.literal_eval(value or "[]")
    except (ValueError, SyntaxError):
        return frozenset()
    places = set()
    for sentence in sentences:
        names = [n.strip() for n in sentence if not n.startswith("loc ")]
        labels = {PADCHEST_TO_CHESTXRAY14[n] for n in names if n in PADCHEST_TO_CHESTXRAY14}
        for loc in (n for n in sentence if n.startswith("loc ")):
            places.update((label, a, v) for label in labels for a, v in place_of(loc[4:]))
    return frozenset(places)


def chestxray14_gold(majors: list[str] | tuple[str, ...]) -> frozenset[str]:
    """ChestX-ray14 labels named by MeSH major terms; Thickening counts only for the pleura."""
    labels = set()
    for term in majors:
        heading, *qualifiers = term.split("/")
        heading = heading.strip()
        if heading in MESH_TO_CHESTXRAY14:
            labels.add(MESH_TO_CHESTXRAY14[heading])
        elif heading == "Thickening" and any("pleura" in q.lower() for q in qualifiers):
            labels.add("Pleural_Thickening")
    return frozenset(labels)


def chexpert_gold(majors: list[str] | tuple[str, ...]) -> frozenset[str]:
    """CheXpert labels named by MeSH major terms; No Finding when "normal" is the only term."""
    labels: set[str] = set()
    headings = []
    for term in majors:
        heading, *rest = (part.strip() for part in term.split("/"))
        qualifiers = [q.lower() for q in rest]
        headings.append(heading)
        labels.update(MESH_TO_CHEXPERT.get(heading, ()))
        if heading == "Cardiac Shadow" and "enlarged" in qualifiers:
            labels.add("Cardiomegaly")
        elif heading in ("Opacity", "Density") and "lung" in qualifiers:
            labels.add("Lung Opacity")
        elif heading == "Mediastinum" and {"prominent", "enlarged", "widened"} & set(qualifiers):
            labels.add("Enlarged Cardiomediastinum")
        elif heading in ("Thickening", "Cicatrix", "Calcinosis") and any(
            "pleura" in q for q in qualifiers
        ):
            labels.add("Pleural Other")
    if headings and all(h.lower() == "normal" for h in headings):
        labels.add("No Finding")
    return frozenset(labels)


def openi_dev(wheel: Path) -> Iterator[Report]:
    """Dev-split OpenI reports with FINDINGS and/or IMPRESSION, in id order."""
    with zipfile.ZipFile(wheel) as archive:
        reports = tarfile.open(fileobj=io.BytesIO(archive.read(OPENI_MEMBER)))
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
            majors = tuple(m.text or "" for m in root.iter("major"))
            gold = chestxray14_gold(majors)
            yield Report(report_id, "\n".join(parts), gold, majors, openi_places(majors))


def padchest_dev(wheel: Path) -> Iterator[Report]:
    """Dev-split, physician-labelled PadChest reports, one per ReportID, in file order."""
    csv.field_size_limit(1 << 24)
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(PADCHEST_MEMBER)
    rows = csv.DictReader(io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), "utf-8"))
    seen: set[int] = set()
    for row in rows:
        report_id = row.get("ReportID") or ""
        if not report_id.isdigit() or int(report_id) % 5 == 0:
            continue  # held out: dropped before any other field is looked at
        if row["MethodLabel"] != "Physician" or int(report_id) in seen:
            continue
        seen.add(int(report_id))
        names = {name.strip() for name in ast.literal_eval(row["Labels"] or "[]") if name}
        gold = frozenset(PADCHEST_TO_CHESTXRAY14[n] for n in names if n in PADCHEST_TO_CHESTXRAY14)
        places = padchest_places(row.get("LabelsLocalizationsBySentence") or "")
        yield Report(int(report_id), row["Report"], gold, tuple(sorted(names)), places)
