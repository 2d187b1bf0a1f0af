"""The rule engine, one family of rules at a time, on short made-up report sentences."""

from __future__ import annotations

import time

import pytest

from labelmill.labelers.reports.engine import ReportEngine, fold_case
from labelmill.labelers.reports.labeler import get_engine
from labelmill.schemas.ontology import parse_ontology


def labels(text: str | None, ontology: str = "chestxray14") -> dict[str, int]:
    return get_engine(ontology).label(text).labels


CASES = {
    "negation": [
        ("No pneumothorax.", "Pneumothorax", 0),
        ("There is no evidence of pleural effusion.", "Effusion", 0),
        ("Negative for pneumonia.", "Pneumonia", 0),
        ("Lungs are free of consolidation.", "Consolidation", 0),
        ("Pneumothorax is not seen.", "Pneumothorax", 0),
        ("A pneumothorax can not be identified.", "Pneumothorax", 0),
        ("Effusion is absent.", "Effusion", 0),
        ("Pneumothorax has been excluded.", "Pneumothorax", 0),
        ("Without focal consolidation.", "Consolidation", 0),
    ],
    "negation scope and termination": [
        ("No pneumothorax but a small effusion.", "Effusion", 1),
        ("No pneumothorax but a small effusion.", "Pneumothorax", 0),
        ("No pneumothorax; there is a small effusion.", "Effusion", 1),
        ("No pneumothorax. Small left effusion.", "Effusion", 1),
        ("No pneumothorax, however there is atelectasis.", "Atelectasis", 1),
        ("Cardiomegaly without pleural effusion.", "Cardiomegaly", 1),
        ("No focal airspace disease in the lungs which show mild edema.", "Edema", 1),
    ],
    "lists": [
        ("No effusion, pneumothorax or consolidation.", "Effusion", 0),
        ("No effusion, pneumothorax or consolidation.", "Pneumothorax", 0),
        ("No effusion, pneumothorax or consolidation.", "Consolidation", 0),
        ("No focal consolidation, pleural effusion, or pneumothorax is seen.", "Pneumothorax", 0),
        ("Effusion and pneumothorax are not identified.", "Effusion", 0),
    ],
    "pseudo-negation": [
        ("No change in the left pleural effusion.", "Effusion", 1),
        ("No significant interval change in cardiomegaly.", "Cardiomegaly", 1),
        ("Atelectasis, not significantly changed.", "Atelectasis", 1),
        ("Not only atelectasis but also consolidation.", "Atelectasis", 1),
    ],
    "uncertainty": [
        ("Opacity may represent pneumonia.", "Pneumonia", -1),
        ("Findings could be due to atelectasis.", "Atelectasis", -1),
        ("Differential includes pneumonia.", "Pneumonia", -1),
        ("Question of a small pneumothorax.", "Pneumothorax", -1),
        ("Pneumonia cannot be excluded.", "Pneumonia", -1),
        ("Pneumonia is not excluded.", "Pneumonia", -1),
        ("Pneumonia cannot be ruled out.", "Pneumonia", -1),
        ("Cannot exclude a small effusion.", "Effusion", -1),
        ("Possible small left effusion.", "Effusion", -1),
        ("Atelectasis versus pneumonia.", "Pneumonia", -1),
        ("Atelectasis versus pneumonia.", "Atelectasis", 1),
        ("Suspicious for a mass.", "Mass", -1),
        ("Opacity may be compatible with pneumonia.", "Pneumonia", -1),
    ],
    "probable findings": [
        ("Probable small left effusion.", "Effusion", 1),
        ("Opacity most consistent with atelectasis.", "Atelectasis", 1),
        ("No findings consistent with pneumonia.", "Pneumonia", 0),
    ],
    "exclusions": [
        ("Small pericardial effusion.", "Effusion", None),
        ("There is mass effect on the trachea.", "Mass", None),
        ("Massive hiatal hernia.", "Mass", None),
        ("Subcutaneous emphysema in the chest wall.", "Emphysema", None),
        ("Small pericardial effusion and a left pleural effusion.", "Effusion", 1),
    ],
    "normal statements": [
        ("Heart size is normal.", "Cardiomegaly", 0),
        ("Heart size normal.", "Cardiomegaly", 0),
        ("The heart is normal in size.", "Cardiomegaly", 0),
        ("The cardiomediastinal silhouette is within normal limits.", "Cardiomegaly", 0),
        ("Normal heart size.", "Cardiomegaly", 0),
        ("The heart is not enlarged.", "Cardiomegaly", 0),
        ("The heart is slightly large.", "Cardiomegaly", 1),
        ("The heart is mildly enlarged.", "Cardiomegaly", 1),
        ("Borderline heart size.", "Cardiomegaly", 1),
    ],
    "resolved and historical": [
        ("The pneumothorax has resolved.", "Pneumothorax", 0),
        ("Resolved left pleural effusion.", "Effusion", 0),
        ("Interval resolution of the right effusion.", "Effusion", 0),
        ("Patient with history of pneumonia.", "Pneumonia", None),
        ("The pneumothorax is no longer seen.", "Pneumothorax", 0),
    ],
    "plurals, case, spelling and abbreviations": [
        ("Bilateral pleural effusions.", "Effusion", 1),
        ("Multiple pulmonary nodules.", "Nodule", 1),
        ("Bilateral pneumothoraces.", "Pneumothorax", 1),
        ("SMALL RIGHT PNEUMOTHORAX.", "Pneumothorax", 1),
        ("NO PLEURAL EFFUSION.", "Effusion", 0),
        ("Small right pnuemothorax.", "Pneumothorax", 1),
        ("Small right PTX.", "Pneumothorax", 1),
        ("No PTX.", "Pneumothorax", 0),
        ("Bibasilar atelectatic changes.", "Atelectasis", 1),
        ("Small hiatal hernia.", "Hernia", 1),
        ("Left apical pleural capping.", "Pleural_Thickening", 1),
        ("Basilar fibrotic changes.", "Fibrosis", 1),
        ("Air-space infiltrates.", "Infiltration", 1),
    ],
    "sentence splitting": [
        ("No effusion . Pneumothorax on the left.", "Pneumothorax", 1),
        ("No effusion\n\nPneumothorax on the left.", "Pneumothorax", 1),
        ("A 1.5 cm nodule. No effusion.", "Nodule", 1),
    ],
    "sections": [
        ("INDICATION: evaluate for pneumonia.\nFINDINGS: Lungs are clear.", "Pneumonia", None),
        ("History: pneumothorax.\nImpression: Resolved.", "Pneumothorax", None),
        ("COMPARISON: prior with effusion. FINDINGS: Cardiomegaly.", "Effusion", None),
        ("FINDINGS\nSmall left effusion.", "Effusion", 1),
        ("impression: small left effusion", "Effusion", 1),
    ],
}


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [case for family in CASES.values() for case in family],
    ids=[f"{family}: {case[0]!r}->{case[1]}" for family, cs in CASES.items() for case in cs],
)
def test_rule_family(text: str, label: str, expected: int | None) -> None:
    assert labels(text).get(label) == expected


def test_combination_prefers_positive_then_uncertain() -> None:
    text = "No effusion on the left. Possible small effusion on the right. Effusion at the base."
    assert labels(text)["Effusion"] == 1
    assert labels("No effusion on the left. Possible effusion on the right.")["Effusion"] == -1


def test_evidence_points_at_the_mention() -> None:
    text = "FINDINGS: Heart size is normal. No pneumothorax but a small effusion."
    result = get_engine("chestxray14").label(text)
    by_label = {item["label"]: item for item in result.evidence}
    effusion = by_label["Effusion"]
    assert text[effusion["start"] : effusion["end"]] == "effusion"
    assert effusion["sentence"] == "No pneumothorax but a small effusion."
    assert (effusion["status"], effusion["section"], effusion["trigger"]) == (1, "findings", None)
    assert by_label["Pneumothorax"]["trigger"] == "negated: no"
    assert by_label["Cardiomegaly"]["trigger"].startswith("normal: ")
    assert set(result.labels) == set(by_label)


def test_sections_can_be_counted_when_configured() -> None:
    ontology = get_engine("chestxray14").ontology
    assert ReportEngine(ontology, ignore_sections=[]).label("INDICATION: pneumonia.").labels == {
        "Pneumonia": 1
    }
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['indications'\]"):
        ReportEngine(ontology, ignore_sections=["indications"])


def test_chexpert_rules() -> None:
    assert labels("Heart size normal. Lungs are clear.", "chexpert") == {
        "Cardiomegaly": 0,
        "No Finding": 1,
    }
    found = labels("Mild CHF. Pacemaker in place.", "chexpert")
    assert found["Edema"] == 1 and found["Support Devices"] == 1 and "No Finding" not in found
    assert labels("Pacemaker in place.", "chexpert")["No Finding"] == 1
    assert labels("Possible pneumonia.", "chexpert").get("No Finding") is None


@pytest.mark.parametrize("text", ["Study reviewed.", "INDICATION: cough.", "Xyz abc.\n\nQrs."])
def test_a_report_without_mentions_skips_its_sentences_but_not_no_finding(text: str) -> None:
    """Without a mention only the No Finding rule needs the sentences: it holds when one counts."""
    assert labels(text) == {}
    counted = not text.startswith("INDICATION")
    assert labels(text, "chexpert") == ({"No Finding": 1} if counted else {})


@pytest.mark.parametrize("text", [None, "", "   \n ", "...", "\x00\ufffd\ufffd"])
def test_empty_or_junk_text_gives_no_labels(text: str | None) -> None:
    assert labels(text) == {}


def test_a_one_megabyte_report_is_labelled() -> None:
    text = "Heart size is normal. Pericardial effusion. No pneumothorax. " * 17000
    text += "Small left effusion."
    assert len(text) > 1_000_000
    result = get_engine("chestxray14").label(text)
    assert result.labels == {"Cardiomegaly": 0, "Pneumothorax": 0, "Effusion": 1}
    assert len(result.evidence) == 2 * 17000 + 1


def test_case_folding_keeps_offsets() -> None:
    text = "İ pneumothorax"
    assert len(fold_case(text)) == len(text)
    result = get_engine("chestxray14").label(text)
    item = result.evidence[0]
    assert text[item["start"] : item["end"]] == "pneumothorax"


def test_user_ontology_with_patterns() -> None:
    ontology = parse_ontology(
        {
            "name": "tiny",
            "labels": [
                {
                    "name": "Line",
                    "synonyms": ["picc line"],
                    "patterns": [r"central (?:venous )?line"],
                }
            ],
        }
    )
    engine = ReportEngine(ontology)
    assert engine.label("Right PICC lines. No central venous line.").labels == {"Line": 1}
    assert engine.label("No central line.").labels == {"Line": 0}


def test_a_megabyte_run_on_sentence_stays_fast() -> None:
    text = "no effusion, but " * 70000 + "small pneumothorax"
    assert len(text) > 1_000_000
    started = time.process_time()  # CPU time: a quadratic scan takes minutes, load does not
    found = labels(text)  # cut into chunks at spaces, so a chunk may start "effusion, but"
    assert time.process_time() - started < 20
    assert set(found) == {"Effusion", "Pneumothorax"} and found["Pneumothorax"] == 1


def test_trigger_windows_are_bounded() -> None:
    far = "No acute bony abnormality of the ribs, clavicles, scapulae, sternum or visible thoracic"
    far += " spine, and a small effusion."  # 15 words after "no": beyond its window of 12
    assert labels(far)["Effusion"] == 1
    assert labels("No large or moderate left pleural effusion.")["Effusion"] == 0


def test_longest_trigger_wins() -> None:
    result = get_engine("chestxray14").label("Cannot exclude pneumonia.")
    assert result.evidence[0]["trigger"] == "uncertain: cannot exclude"
