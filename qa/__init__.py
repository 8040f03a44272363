"""kotae: answers from your documents, quoted and cited, offline."""

from .api import IndexStatus, answer, build_index, search, status
from .config import Settings
from .types import Answer, BuildStats, Citation, Hit

__all__ = [
    "Answer",
    "BuildStats",
    "Citation",
    "Hit",
    "IndexStatus",
    "Settings",
    "answer",
    "build_index",
    "search",
    "status",
]
