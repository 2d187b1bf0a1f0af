"""The harmonization cascade: lexical, crosswalk, embeddings, then (optionally) an LLM, cached.

Each distinct raw string is resolved once and the decision records how (method, score, model,
prompt version, reason), so a mapping can be audited and reproduced. The cheaper, more reliable
steps decide first, and the cascade abstains rather than guesses:
1. lexical: exact after normalisation, the ontology's pattern families, one-edit typos; negated,
   instruction-like and excluded (`exclusions`, `not:`) strings are ruled out here for good;
2. crosswalk: a name of another ontology in `ontologies/crosswalk.yaml` ("hydropneumothorax" of
   PadChest) becomes the labels the table gives; a name the table knows has no counterpart
   stays unmapped;
3. anatomy: a name of a body site the ontology does not cover ("rib fracture" for a chest
   findings ontology) stays unmapped;
4. embedding: the nearest concept whose phrase agrees on head noun, anatomy and kind, above the
   ontology's calibrated threshold, with a margin, and nearer than the concept's `not:` entries;
5. LLM (optional): chooses among step 4's agreeing candidates or "none"; its answer is kept only
   if it is one of them and scores at least the floor, so a weak or hostile model can leave
   strings open but never label what the cascade alone would not have considered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from labelmill.labelers.harmonize.agreement import SITES, is_device, sites
from labelmill.labelers.harmonize.cache import DecisionCache
from labelmill.labelers.harmonize.decision import Decision, Thresholds
from labelmill.labelers.harmonize.embedding import MODEL_ID as EMBEDDING_MODEL
from labelmill.labelers.harmonize.embedding import Candidate, EmbeddingMatcher
from labelmill.labelers.harmonize.lexical import Analysis, LexicalMatcher, tokenize
from labelmill.labelers.harmonize.llm import (
    NONE,
    PROMPT_VERSION,
    ChoiceModel,
    LLMError,
    create_backend,
)
from labelmill.schemas.crosswalk import Crosswalk, load_crosswalk
from labelmill.schemas.ontology import Ontology, load_ontology

LEXICAL_MODEL = "lexical-v4"  # bump whenever steps 1-3 change: it keys the cache
AGREEMENT_VERSION = "agree-v1"
CROSSWALK_MODEL = "crosswalk"


class Harmonizer:
    """Maps raw label strings onto one ontology; see the module docstring for the cascade.

    `llm` is "none", "local" (in-process Gemma 3 270M) or the URL of an OpenAI-compatible server.
    `crosswalk=False` leaves step 2 out (to measure the general rules alone). `encoder` and
    `backend` let callers share a loaded model (tests, benchmarks).
    """

    def __init__(
        self,
        ontology: str | Path | Ontology,
        llm: str = "none",
        cache_dir: str | Path | None = None,
        thresholds: Thresholds | None = None,
        encoder: Any = None,
        backend: ChoiceModel | None = None,
        crosswalk: bool | Crosswalk = True,
    ) -> None:
        self.ontology = ontology if isinstance(ontology, Ontology) else load_ontology(ontology)
        self.thresholds = thresholds or Thresholds.for_ontology(self.ontology.harmonize)
        self.backend = backend if backend is not None else create_backend(llm)
        self.lexical = LexicalMatcher(self.ontology)
        self.anatomy = frozenset(self.ontology.harmonize.get("anatomy", ()))
        unknown = sorted(self.anatomy - set(SITES))
        if unknown:
            known = ", ".join(sorted(SITES))
            raise ValueError(f"{self.ontology.name}: unknown anatomy {unknown}; known: {known}")
        table = load_crosswalk() if crosswalk is True else crosswalk or None
        self.crosswalk = table if table and self.ontology.name in table.ontologies else None
        self._sources = (
            [
                (n, LexicalMatcher(load_ontology(n)))
                for n in sorted(self.crosswalk.ontologies)
                if n != self.ontology.name
            ]
            if self.crosswalk
            else []
        )
        self._encoder = encoder
        self._embedding: EmbeddingMatcher | None = None
        self._early: dict[str, Decision | None] = {}  # steps 1-3 of the strings in flight
        self.cache_dir = cache_dir

    @property
    def cache(self) -> DecisionCache | None:
        """The cache of the current configuration (its file name hashes `describe()`)."""
        return DecisionCache(self.cache_dir, self.describe()) if self.cache_dir else None

    def describe(self) -> dict[str, Any]:
        """Everything that decides the mapping, for run.json and the cache key."""
        crosswalk = ""
        if self.crosswalk is not None:
            payload = json.dumps(asdict(self.crosswalk), sort_keys=True, default=list)
            crosswalk = hashlib.sha256(payload.encode()).hexdigest()[:16]
        return {
            "ontology": self.ontology.name,
            "ontology_hash": self.ontology.hash,
            "lexical": LEXICAL_MODEL,
            "agreement": AGREEMENT_VERSION,
            "crosswalk": crosswalk,
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
        fresh = {raw: self.decide(raw, a, c) for raw, a, c in self.evidence(todo)}
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
        """What the thresholds act on: step 1's analysis, and step 4's ranking of the concepts
        for the strings that steps 1-3 left open (embedded in one batch)."""
        analysed = [(raw, self.lexical.analyse(raw)) for raw in strings]
        self._early = {raw: self._before_embedding(raw, a) for raw, a in analysed}
        open_ = [(raw, a) for raw, a in analysed if self._early[raw] is None]
        ranked: dict[str, list[Candidate]] = {}
        if open_:
            lists = self._embedder().rank([a.clean for _, a in open_])
            ranked = {raw: candidates for (raw, _), candidates in zip(open_, lists, strict=True)}
        return [(raw, a, ranked.get(raw, [])) for raw, a in analysed]

    def decide(self, raw: str, analysis: Analysis, ranked: list[Candidate]) -> Decision:
        """Apply the rules, the thresholds (and the LLM, if any) to one string's evidence."""
        early = self._early[raw] if raw in self._early else self._before_embedding(raw, analysis)
        if early is not None:
            return early
        return self._embedding_decision(raw, [c for c in ranked if c.label not in analysis.blocked])

    def _before_embedding(self, raw: str, analysis: Analysis) -> Decision | None:
        """Steps 1-3: a decision, or None when the embedding step must look."""
        if analysis.labels:
            return Decision(raw, analysis.labels, analysis.method, analysis.score, LEXICAL_MODEL)
        reason = _ruled_out(analysis)
        if reason:
            return _unmapped(raw, reason)
        crossed = self._crosswalk(raw)
        if crossed is not None:
            return crossed
        if len(analysis.clean.split()) > self.thresholds.max_words:
            return _unmapped(raw, f"longer than {self.thresholds.max_words} words")
        words = tokenize(analysis.clean)
        named = sites(words)
        # Devices are judged by the kind check instead: a catheter in a vein is still a device.
        if self.anatomy and named and not named & self.anatomy and not is_device(words):
            where = ", ".join(sorted(named))
            return _unmapped(raw, f"names {where}, outside {self.ontology.name}'s anatomy")
        return None

    def _crosswalk(self, raw: str) -> Decision | None:
        """Step 2: the labels the table gives a name of another ontology, or why it has none.

        A name that is itself a label of another ontology is read as that label first: PadChest's
        "vascular redistribution" has no chestxray14 counterpart, although chexpert lists the
        phrase among its Edema synonyms (a reading of report text, not of a label)."""
        assert self.crosswalk is not None or not self._sources
        target = self.ontology.name
        found_in = [(source, matcher.analyse(raw)) for source, matcher in self._sources]
        found_in = [(source, found) for source, found in found_in if found.labels]
        found_in.sort(key=lambda item: not _names_its_label(item[1]))
        refusal = None
        for source, found in found_in:
            labels = tuple(
                dict.fromkeys(
                    x for lab in found.labels for x in self.crosswalk.translate(source, lab, target)
                )
            )
            if labels:
                ordered = tuple(x for x in self.ontology.labels if x in labels)
                model = f"{CROSSWALK_MODEL}:{source}"
                return Decision(raw, ordered, "crosswalk", found.score, model)
            unknown = [lab for lab in found.labels if not self.crosswalk.covers(source, lab)]
            if found.score == 1.0 and len(unknown) == len(found.labels):
                names = ", ".join(repr(lab) for lab in unknown)
                no_counterpart = _unmapped(raw, f"{source} {names} has no {target} counterpart")
                if _names_its_label(found):
                    return no_counterpart
                refusal = refusal or no_counterpart
        return refusal

    def _embedding_decision(self, raw: str, ranked: list[Candidate]) -> Decision:
        t = self.thresholds
        if not ranked:
            why = f"no phrase of {self.ontology.name} agrees on head noun, anatomy and kind"
            return Decision(raw, (), "unmapped", 0.0, EMBEDDING_MODEL, "", why)
        usable = [c for c in ranked if c.negative < c.score]
        held = [
            f"{c.label} is nearer its not: entry {c.negative_phrase!r}"
            for c in ranked
            if c.negative >= c.score and c.score >= t.accept
        ]
        top = usable[0] if usable else Candidate("", 0.0)
        gap = top.score - (usable[1].score if len(usable) > 1 else 0.0)
        if top.score >= t.accept and gap >= t.margin:
            return Decision(raw, (top.label,), "embedding", top.score, EMBEDDING_MODEL)
        note = "; ".join([f"best {top.label or '-'} {top.score:.2f}, margin {gap:.2f}", *held[:2]])
        if self.backend is None or top.score < t.llm_floor:
            return Decision(raw, (), "unmapped", top.score, EMBEDDING_MODEL, "", note)
        return self._llm_decision(raw, usable[: t.top_k], note)

    def _llm_decision(self, raw: str, offered: list[Candidate], note: str) -> Decision:
        """Ask the LLM among `offered`; keep its answer only if it passes the ontology's checks."""
        assert self.backend is not None
        model, version = self.backend.model_id, PROMPT_VERSION
        concepts = [self.ontology.concept(c.label) for c in offered]
        try:
            answer = self.backend.choose(raw, concepts)
        except LLMError as exc:
            return Decision(raw, (), "unmapped", 0.0, model, version, f"llm error: {exc}")
        scores = {c.label: c.score for c in offered}
        if answer == NONE:
            return Decision(raw, (), "unmapped", 0.0, model, version, f"llm: none; {note}")
        if answer in scores and scores[answer] >= self.thresholds.llm_floor:
            return Decision(raw, (answer,), "llm", scores[answer], model, version, note)
        return Decision(
            raw, (), "unmapped", 0.0, model, version, f"llm overruled: {answer!r:.40}; {note}"
        )


def _unmapped(raw: str, reason: str) -> Decision:
    return Decision(raw, (), "unmapped", 0.0, LEXICAL_MODEL, "", reason)


def _ruled_out(analysis: Analysis) -> str:
    """Why no step may map this string, or "" when the later steps may try."""
    if analysis.instruction:
        return f"looks like an instruction, not a label ({analysis.instruction!r})"
    if analysis.negation:
        return f"negated or historical finding ({analysis.negation!r})"
    if not analysis.clean:
        return "empty after normalisation"
    if analysis.excluded:
        # The ontology says the string names something else; its neighbours are no evidence.
        return f"excluded from {', '.join(sorted(analysis.excluded))} by the ontology"
    return ""


def _names_its_label(found: Analysis) -> bool:
    """Whether the string is one of the labels found, not a synonym of it."""
    return found.clean in {label.lower() for label in found.labels}
