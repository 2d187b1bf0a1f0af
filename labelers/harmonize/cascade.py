"""The harmonization cascade: lexical, then embeddings, then (optionally) an LLM, with a cache.

Each distinct raw string is resolved once and the decision records how (method, score, model,
prompt version, reason), so a mapping can be audited and reproduced. Strings no step can place
stay "unmapped" with a reason; nothing is dropped silently. The cheaper, more reliable steps
decide first. The LLM only sees strings the embedding step left open, chooses among its top
candidates, and its answer is kept only if it is one of them and scores at least `floor`: with
the calibrated floor (equal to `accept`) it can only break near-ties between strong candidates,
so a weak model can leave strings open but cannot label what the cascade alone would not have
considered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labelmill.labelers.harmonize.cache import DecisionCache
from labelmill.labelers.harmonize.embedding import MODEL_ID as EMBEDDING_MODEL
from labelmill.labelers.harmonize.embedding import Candidate, EmbeddingMatcher
from labelmill.labelers.harmonize.lexical import Analysis, LexicalMatcher
from labelmill.labelers.harmonize.llm import (
    NONE,
    PROMPT_VERSION,
    ChoiceModel,
    LLMError,
    create_backend,
)
from labelmill.schemas.ontology import Ontology, load_ontology

LEXICAL_MODEL = "lexical-v2"  # bump whenever step 1's rules change: it keys the cache
METHODS = ("lexical", "embedding", "llm", "unmapped")


@dataclass(frozen=True)
class Thresholds:
    """Acceptance rules of the embedding and LLM steps.

    `accept` and `margin`: the embedding step maps a string when its best concept scores at
    least `accept` and leads the runner-up by `margin`. `floor`: the lowest embedding score an
    LLM answer needs to be kept (strings whose best candidate scores less never reach the LLM).
    `top_k`: how many candidates the LLM sees. `max_words`: longer strings are sentences, not
    label names, and only the lexical step may map them. The defaults come from
    `benchmarks/harmonize.py --calibrate` on the calibration half of the benchmark pairs.
    """

    accept: float = 0.60
    margin: float = 0.05
    floor: float = 0.60
    top_k: int = 4
    max_words: int = 8


@dataclass(frozen=True)
class Decision:
    """How one raw string was mapped; `label` is None when unmapped, `reason` says why."""

    raw: str
    label: str | None
    method: str
    score: float
    model: str
    prompt_version: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class Harmonizer:
    """Maps raw label strings onto one ontology; see the module docstring for the cascade.

    `llm` is "none", "local" (in-process Gemma 3 270M) or the URL of an OpenAI-compatible server.
    `encoder` and `backend` let callers share a loaded model (tests, benchmarks).
    """

    def __init__(
        self,
        ontology: str | Path | Ontology,
        llm: str = "none",
        cache_dir: str | Path | None = None,
        thresholds: Thresholds | None = None,
        encoder: Any = None,
        backend: ChoiceModel | None = None,
    ) -> None:
        self.ontology = ontology if isinstance(ontology, Ontology) else load_ontology(ontology)
        self.thresholds = thresholds or Thresholds()
        self.backend = backend if backend is not None else create_backend(llm)
        self.lexical = LexicalMatcher(self.ontology)
        self._encoder = encoder
        self._embedding: EmbeddingMatcher | None = None
        self.cache_dir = cache_dir

    @property
    def cache(self) -> DecisionCache | None:
        """The cache of the current configuration (its file name hashes `describe()`)."""
        return DecisionCache(self.cache_dir, self.describe()) if self.cache_dir else None

    def describe(self) -> dict[str, Any]:
        """Everything that decides the mapping, for run.json and the cache key."""
        return {
            "ontology": self.ontology.name,
            "ontology_hash": self.ontology.hash,
            "lexical": LEXICAL_MODEL,
            "embedding_model": EMBEDDING_MODEL,
            "llm": self.backend.model_id if self.backend is not None else "none",
            "prompt_version": PROMPT_VERSION if self.backend is not None else "",
            "thresholds": asdict(self.thresholds),
        }

    def map(self, strings: Iterable[str]) -> dict[str, Decision]:
        """One decision per distinct string, from the cache where possible."""
        distinct = list(dict.fromkeys(strings))
        cache = self.cache
        cached = cache.load() if cache else {}
        decisions = {s: Decision.from_json(cached[s]) for s in distinct if s in cached}
        todo = [s for s in distinct if s not in decisions]
        fresh = self._resolve(todo)
        if cache:
            # LLM transport errors are not answers: leave them out so the next run asks again.
            cache.update(
                {s: d.to_json() for s, d in fresh.items() if not d.reason.startswith("llm error")}
            )
        decisions.update(fresh)
        return {s: decisions[s] for s in distinct}

    def _embedder(self) -> EmbeddingMatcher:
        if self._embedding is None:
            self._embedding = EmbeddingMatcher(self.ontology, self._encoder)
        return self._embedding

    def evidence(self, strings: Sequence[str]) -> list[tuple[str, Analysis, list[Candidate]]]:
        """What the thresholds act on: step 1's analysis, and step 2's ranking of the concepts
        for strings step 1 neither mapped nor ruled out."""
        analysed = [(raw, self.lexical.analyse(raw)) for raw in strings]
        open_ = [(raw, a) for raw, a in analysed if a.label is None and not _ruled_out(a)]
        ranked: dict[str, list[Candidate]] = {}
        if open_:
            lists = self._embedder().rank([a.clean for _, a in open_])
            ranked = {raw: candidates for (raw, _), candidates in zip(open_, lists, strict=True)}
        return [(raw, a, ranked.get(raw, [])) for raw, a in analysed]

    def decide(self, raw: str, analysis: Analysis, ranked: list[Candidate]) -> Decision:
        """Apply the thresholds (and the LLM, if any) to one string's evidence."""
        if analysis.label is not None:
            return Decision(raw, analysis.label, "lexical", analysis.score, LEXICAL_MODEL)
        reason = _ruled_out(analysis)
        if not reason and len(analysis.clean.split()) > self.thresholds.max_words:
            reason = f"longer than {self.thresholds.max_words} words"
        if reason:
            return Decision(raw, None, "unmapped", 0.0, LEXICAL_MODEL, "", reason)
        return self._embedding_decision(raw, ranked)

    def _resolve(self, strings: Sequence[str]) -> dict[str, Decision]:
        return {raw: self.decide(raw, a, c) for raw, a, c in self.evidence(strings)}

    def _embedding_decision(self, raw: str, ranked: list[Candidate]) -> Decision:
        t = self.thresholds
        top = ranked[0] if ranked else Candidate("", 0.0)
        gap = top.score - (ranked[1].score if len(ranked) > 1 else 0.0)
        if top.score >= t.accept and gap >= t.margin:
            return Decision(raw, top.label, "embedding", top.score, EMBEDDING_MODEL)
        note = f"best {top.label or '-'} {top.score:.2f}, margin {gap:.2f}"
        if self.backend is None or top.score < t.floor:
            return Decision(raw, None, "unmapped", top.score, EMBEDDING_MODEL, "", note)
        return self._llm_decision(raw, ranked[: t.top_k], note)

    def _llm_decision(self, raw: str, offered: list[Candidate], note: str) -> Decision:
        """Ask the LLM among `offered`; keep its answer only if it passes the ontology's checks."""
        assert self.backend is not None
        model, version = self.backend.model_id, PROMPT_VERSION
        concepts = [self.ontology.concept(c.label) for c in offered]
        try:
            answer = self.backend.choose(raw, concepts)
        except LLMError as exc:
            return Decision(raw, None, "unmapped", 0.0, model, version, f"llm error: {exc}")
        scores = {c.label: c.score for c in offered}
        if answer == NONE:
            return Decision(raw, None, "unmapped", 0.0, model, version, f"llm: none; {note}")
        if answer in scores and scores[answer] >= self.thresholds.floor:
            return Decision(raw, answer, "llm", scores[answer], model, version, note)
        return Decision(
            raw, None, "unmapped", 0.0, model, version, f"llm overruled: {answer!r:.40}; {note}"
        )


def _ruled_out(analysis: Analysis) -> str:
    """Why no step may map this string, or "" when the later steps may try."""
    if not analysis.clean:
        return "empty after normalisation"
    if analysis.instruction:
        return "looks like an instruction, not a label"
    if analysis.negated:
        return "negated finding"
    if analysis.blocked:
        # The ontology says the string names something else; its neighbours are no evidence.
        return f"excluded from {', '.join(sorted(analysis.blocked))} by the ontology"
    return ""
