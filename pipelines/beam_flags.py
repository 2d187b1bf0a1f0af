"""Which `labelmill build` extras are Beam options, and what a mistyped flag was meant to be.

Flags that `labelmill build` does not know go to Beam, and Beam ignores what it does not know
either, so a typo (`--shard-max-sample 3`, `--workers 2`) used to give a build without what was
asked and exit 0. Here the extras are parsed against every option Beam defines (each
`PipelineOptions` subclass declares its own with argparse); anything else is an error that
suggests the closest labelmill flag or Beam option.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Names new users reach for, and what they mean here.
HINTS = {
    "--workers": "--direct_num_workers N --direct_running_mode multi_processing",
    "--num-workers": "--direct_num_workers N --direct_running_mode multi_processing",
    "--ontology": "--report-ontology (or --harmonize)",
}


class FlagError(ValueError):
    """An extra argument that neither labelmill nor Beam knows; the message has a suggestion."""


def _subclasses(cls: type) -> list[type]:
    found: dict[type, None] = {}
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found[sub] = None
                stack.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


@lru_cache(maxsize=1)
def beam_parser() -> argparse.ArgumentParser:
    """An argparse parser holding every option of every `PipelineOptions` subclass."""
    from apache_beam.options import pipeline_options as po

    class Parser(po._BeamArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise FlagError(message)

    parser = Parser(allow_abbrev=False, add_help=False, conflict_handler="resolve")
    for cls in _subclasses(po.PipelineOptions):
        cls._add_argparse_args(parser)
    return parser


def beam_flags() -> list[str]:
    """Every option string Beam knows (`--runner`, `--direct_num_workers`, ...)."""
    return sorted(s for s in beam_parser()._option_string_actions if s.startswith("--"))


def suggest(flag: str, own: Iterable[str]) -> str:
    """The closest known flag: labelmill's own first (also for `_`/`-` mix-ups), then Beam's."""
    name = flag.split("=", 1)[0]
    own = list(own)
    if name in HINTS:
        return HINTS[name]
    normalized = name.replace("_", "-").lower()
    if normalized in own:
        return normalized
    for candidates in (own, beam_flags()):
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        close = close or difflib.get_close_matches(normalized, candidates, n=1, cutoff=0.75)
        if close:
            return close[0]
    return ""


def check_beam_args(args: Sequence[str], own: Iterable[str]) -> None:
    """Raise FlagError for the first extra that is not a Beam option (or not a valid value)."""
    if not args:
        return
    _, unknown = beam_parser().parse_known_args(list(args))
    if not unknown:
        return
    first = unknown[0]
    if not first.startswith("-"):
        raise FlagError(f"unexpected argument {first!r}")
    hint = suggest(first, own)
    tail = f"; did you mean {hint}?" if hint else ""
    raise FlagError(f"no such option: {first.split('=', 1)[0]}{tail}")
