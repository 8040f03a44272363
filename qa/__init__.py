"""kotae: answers from your documents, quoted and cited, offline."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        IndexStatus,
        add_documents,
        answer,
        build_index,
        remove_documents,
        search,
        status,
    )
    from .config import Settings
    from .types import Answer, BuildStats, Citation, Hit

__all__ = [
    "Answer",
    "BuildStats",
    "Citation",
    "Hit",
    "IndexStatus",
    "Settings",
    "add_documents",
    "answer",
    "build_index",
    "remove_documents",
    "search",
    "status",
]

# Each public name's module, imported on first use (PEP 562): a stage that needs only numpy
# (`qa.reader`'s weight format) then imports where the rest of the stack is not installed,
# as on the GPU machine that trains the reader (benchmarks/train_reader.py).
_MODULES = {
    "Answer": "types",
    "BuildStats": "types",
    "Citation": "types",
    "Hit": "types",
    "IndexStatus": "api",
    "Settings": "config",
    "add_documents": "api",
    "answer": "api",
    "build_index": "api",
    "remove_documents": "api",
    "search": "api",
    "status": "api",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(import_module(f".{_MODULES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
