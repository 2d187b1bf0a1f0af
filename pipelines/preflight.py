"""Check every labeler option before any work, so that a mistake costs a second, not a build.

Without this, `--report-ontology chexpret` or `--device tpu` surfaced as a traceback inside a
Beam worker, after planning had written `_work/`, and the corrected command was then refused
as "another config". Each labeler is constructed and described here exactly as a worker would
(its ontology compiled, its model spec resolved and weights read), the aggregation and
harmonization options are checked, and each error is one line with the valid values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from labelmill.schemas.config import BuildConfig

DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
LOCAL_RUNNERS = {"", "fnapirunner", "directrunner", "bundlebasedirectrunner", "swallowingrunner"}


class PreflightError(ValueError):
    """An option that would fail the build; the message names it and the valid values."""


def check_device(device: Any, local: bool) -> None:
    """`auto`, `cpu` or `cuda[:N]`; on a local runner, a CUDA device must exist."""
    if not isinstance(device, str) or not DEVICE.fullmatch(device):
        raise PreflightError(f"device: {device!r} is not one of auto, cpu, cuda, cuda:N")
    if local and device.startswith("cuda"):
        import torch

        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            found = torch.cuda.device_count()
            raise PreflightError(
                f"device: {device} asked for, but this machine has {found} CUDA device(s); "
                "use --device cpu or auto"
            )


def check_labelers(config: BuildConfig, local: bool) -> None:
    """Construct and describe each labeler as a worker would; check the image device."""
    from labelmill.labelers.base import REGISTRY, create

    for spec in config.labelers:
        if spec.name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY))
            raise PreflightError(f"labelers: unknown labeler {spec.name!r}; known: {known}")
        try:
            labeler = create(spec.name, spec.options)
        except TypeError as exc:
            raise PreflightError(f"{spec.name}: {_option_problem(exc)}") from exc
        except ValueError as exc:
            raise PreflightError(f"{spec.name}: {exc}") from exc
        if getattr(labeler, "device", None) is not None:
            check_device(labeler.device, local)
        _checked(spec.name, labeler.describe)


def check_aggregate(config: BuildConfig) -> None:
    from labelmill.labelers.aggregate import METHODS, POLICIES, configured_labels

    options = config.aggregate
    if options is None:
        return
    method = options.get("method", "majority")
    if method not in METHODS:
        raise PreflightError(f"aggregate: method {method!r} unknown; valid: {', '.join(METHODS)}")
    uncertain = options.get("uncertain", "ignore")
    if uncertain not in POLICIES:
        valid = ", ".join(POLICIES)
        raise PreflightError(f"aggregate: uncertain {uncertain!r} unknown; valid: {valid}")
    _checked("aggregate", lambda: configured_labels(options))


def check_harmonize(config: BuildConfig) -> None:
    from labelmill.labelers.harmonize.llm import create_backend
    from labelmill.schemas.ontology import load_ontology

    options = config.harmonize
    if options is None:
        return
    _checked("harmonize", lambda: load_ontology(options.get("ontology", "")))
    _checked("harmonize", lambda: create_backend(options.get("llm", "none")))


def _option_problem(exc: TypeError) -> str:
    """`__init__() got an unexpected keyword argument 'topk2'` -> `unknown option 'topk2'`."""
    found = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
    return f"unknown option {found.group(1)!r}" if found else str(exc)


def _checked(where: str, step: Callable[[], Any]) -> Any:
    """Run one check; its error becomes a one-line PreflightError naming `where`."""
    try:
        return step()
    except PreflightError:
        raise
    except Exception as exc:  # a labeler may raise anything on bad options; all mean "refuse"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PreflightError(f"{where}: {message}") from exc


def preflight(config: BuildConfig, runner: str | None) -> None:
    """Every check, before planning writes anything. `runner` decides whether the device of
    this machine matters (a Dataflow launcher has no GPU; its workers may)."""
    local = (runner or "").lower() in LOCAL_RUNNERS
    check_labelers(config, local)
    check_aggregate(config)
    check_harmonize(config)
