"""kotae: answers from your documents, quoted and cited, offline."""

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
