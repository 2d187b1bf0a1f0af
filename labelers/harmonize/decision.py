"""What the cascade decides per string (`Decision`) and the rules it decides by (`Thresholds`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

METHODS = ("lexical", "family", "crosswalk", "embedding", "llm", "unmapped")


@dataclass(frozen=True)
class Thresholds:
    """Acceptance rules of the embedding and LLM steps.

    `accept` and `margin`: the embedding step maps a string when its best agreeing concept scores
    at least `accept` and leads the runner-up by `margin`. `floor`: the
    lowest score an LLM answer needs to be kept (strings whose best candidate scores less never
    reach the LLM). `top_k`: how many candidates the LLM sees. `max_words`: longer strings are
    sentences, not label names, and only the lexical steps may map them. An ontology's
    `harmonize:` block overrides `accept`, `margin` and `strong` (calibrated per ontology by
    `benchmarks/harmonize.py --calibrate`); `floor` follows `accept` unless given.
    """

    accept: float = 0.60
    margin: float = 0.03
    floor: float | None = None
    top_k: int = 4
    max_words: int = 8

    @property
    def llm_floor(self) -> float:
        return self.accept if self.floor is None else self.floor

    @classmethod
    def for_ontology(cls, options: dict[str, Any]) -> Thresholds:
        """The defaults with an ontology's calibrated `harmonize:` values applied."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})


@dataclass(frozen=True)
class Decision:
    """How one raw string was mapped: onto `labels` (none when unmapped; `reason` says why)."""

    raw: str
    labels: tuple[str, ...]
    method: str
    score: float
    model: str
    prompt_version: str = ""
    reason: str = ""

    @property
    def label(self) -> str | None:
        """The labels as one `A|B` string (the CSV form), None when unmapped."""
        return "|".join(self.labels) or None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "labels": list(self.labels), "label": self.label}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        labels = data.get("labels")
        if labels is None:  # older records: one label or an `A|B` string
            labels = [x for x in str(data.get("label") or "").split("|") if x]
        known = {f.name for f in fields(cls)} - {"labels"}
        return cls(labels=tuple(labels), **{k: data[k] for k in known if k in data})
