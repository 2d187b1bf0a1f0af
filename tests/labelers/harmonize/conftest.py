"""Fixtures of the harmonizer tests: a small ontology, one shared MiniLM, scripted LLMs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from labelmill.schemas.ontology import Concept

ONTOLOGY = Path(__file__).parent / "ontology.yaml"


@pytest.fixture(scope="session")
def ontology_path() -> str:
    return str(ONTOLOGY)


class CountingEncoder:
    """Wraps the real encoder and records every text it is asked to embed."""

    def __init__(self, encoder: object) -> None:
        self.encoder = encoder
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], **kwargs: object) -> object:
        self.texts.extend(texts)
        return self.encoder.encode(texts, **kwargs)


@pytest.fixture(scope="session")
def minilm() -> object:
    from labelmill.labelers.harmonize.embedding import load_encoder

    return load_encoder()


@pytest.fixture
def encoder(minilm: object) -> CountingEncoder:
    return CountingEncoder(minilm)


class Scripted:
    """An LLM backend that gives a fixed answer (or raises) and records what it was asked."""

    model_id = "scripted-1"

    def __init__(self, answer: str | Exception | None = None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, list[str]]] = []

    def choose(self, raw: str, candidates: Sequence[Concept]) -> str:
        names = [c.name for c in candidates]
        self.asked.append((raw, names))
        if isinstance(self.answer, Exception):
            raise self.answer
        return names[0] if self.answer is None else self.answer


@pytest.fixture
def scripted() -> type[Scripted]:
    """The scripted backend class, for tests to build with the answer they need."""
    return Scripted
