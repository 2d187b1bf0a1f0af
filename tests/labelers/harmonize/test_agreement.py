"""Head-noun, anatomy and kind agreement; abstention on names outside the ontology."""

from __future__ import annotations

import pytest

from labelmill.labelers.harmonize import Harmonizer
from labelmill.labelers.harmonize.agreement import (
    PhraseShape,
    disagreement,
    head,
    kind,
    root,
    sites,
)
from labelmill.labelers.harmonize.lexical import tokenize


def shape(text: str) -> PhraseShape:
    return PhraseShape(tokenize(text))


def test_roots_join_derived_forms_only():
    assert root("enlarged") == root("enlargement")
    assert root("fibrotic") == root("fibrosis")
    assert root("atelectatic") == root("atelectasis")
    assert root("fibroadenoma") != root("fibrosis")


def test_head_noun():
    assert head(tokenize("fluid in the pleural space"))[0] == "fluid"
    assert head(tokenize("atelectasis basal"))[0] == "atelectasis"  # modifiers are skipped
    assert head(tokenize("cardiac silhouette enlarged"))[0] == "enlarged"


def test_sites_and_kinds():
    assert sites(tokenize("pulmonary artery enlargement")) == {"vessel"}
    assert sites(tokenize("hilar prominence")) == {"hilum"}
    assert sites(tokenize("soft tissue swelling of the chest wall")) == {"soft tissue"}
    assert kind(tokenize("jugular central venous catheter")) == "device"
    assert kind(tokenize("post lobectomy")) == "procedure"
    assert kind(tokenize("pleural effusion")) == "finding"


@pytest.mark.parametrize(
    ("string", "phrase", "agrees"),
    [
        ("big heart", "enlarged heart", True),
        ("collapsed lung", "lung collapse", True),
        ("fluid around the lung", "pleural fluid", True),  # the string's "lung" never conflicts
        ("hilar enlargement", "cardiac enlargement", False),  # anatomy
        ("aortic enlargement", "cardiac enlargement", False),
        ("breast fibroadenoma", "fibrosis", False),  # head noun
        ("bronchiectasis", "bronchopneumonia", False),
        ("heart surgery", "enlarged heart", False),  # kind
        ("nasogastric tube", "feeding tube", True),
        ("chronic changes", "fibrotic change", False),  # a generic head needs a qualifier
        ("fibrotic changes", "fibrotic change", True),
    ],
)
def test_disagreement(string: str, phrase: str, agrees: bool):
    assert (disagreement(shape(string), shape(phrase)) == "") is agrees


@pytest.mark.parametrize(
    "raw",
    [
        "splenic enlargement",
        "enlarged aortic knob",
        "thymic enlargement",
        "calcified breast fibroadenoma",
        "bronchiolectasis",
        "status after heart surgery",
        "clavicle fracture",
        "vertebral osteophytes",
        "gastric bubble distension",
        "nipple marker",
    ],
)
def test_names_outside_chestxray14_are_not_mapped(raw: str, minilm):
    d = Harmonizer("chestxray14", encoder=minilm).map([raw])[raw]
    assert d.labels == () and d.reason, d


@pytest.mark.parametrize(
    ("raw", "labels"),
    [
        ("enlarged cardiac shadow", ("Cardiomegaly",)),
        ("interstitial opacities", ("Infiltration",)),  # the ontology's pattern family
        ("reticulonodular pattern, bilateral", ("Infiltration",)),
        ("hydro-pneumothorax", ("Effusion", "Pneumothorax")),
        ("hidroneumotorax", ("Effusion", "Pneumothorax")),  # PadChest's Spanish stem
        ("loculated pleural effusions", ("Effusion",)),
    ],
)
def test_names_inside_are_mapped(raw: str, labels: tuple[str, ...], minilm):
    assert Harmonizer("chestxray14", encoder=minilm).map([raw])[raw].labels == labels


def test_rules_alone_still_abstain_on_other_organs(minilm):
    h = Harmonizer("chestxray14", encoder=minilm, crosswalk=False)
    d = h.map(["vascular hilar enlargement", "pulmonary artery enlargement", "rib fractures"])
    assert all(x.labels == () for x in d.values()), d
    assert "outside chestxray14's anatomy" in d["rib fractures"].reason
