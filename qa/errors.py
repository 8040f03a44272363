"""Errors raised by kotae's API; the CLI and the UI show their message to the user.

QAError
├── InvalidSetting       a setting (env var or flag) has an unusable value
├── InvalidQuestion      empty, too long, or otherwise unusable question
├── DocumentsNotFound    the docs folder is missing or holds no readable document
├── InvalidDocument      a file cannot be added to, or removed from, the docs folder
├── InvalidEvalFile      an evaluation file is missing or malformed
├── ModelUnavailable     the embedding model cannot be loaded
├── IndexProblem         base of index problems
│   ├── IndexNotFound        nothing has been built yet
│   ├── IncompatibleIndex    built with another model or chunking; rebuild with --full
│   ├── CorruptIndex         no generation of the index verifies
│   └── IndexBusy            another build holds the index lock
"""

from __future__ import annotations


class QAError(Exception):
    """Base of every error kotae raises on purpose; its message is meant for users."""


class InvalidSetting(QAError):
    """A setting has a value kotae cannot use."""


class InvalidQuestion(QAError):
    """The question is empty, too long, or otherwise unusable."""


class DocumentsNotFound(QAError):
    """The docs folder is missing or contains no readable document."""


class InvalidDocument(QAError):
    """A file cannot be added to, or removed from, the docs folder."""


class InvalidEvalFile(QAError):
    """An evaluation file is missing or not in the expected format."""


class ModelUnavailable(QAError):
    """A model (embedding or generator) cannot be loaded."""


class IndexProblem(QAError):
    """A problem with the on-disk index."""


class IndexNotFound(IndexProblem):
    """No index has been built in the index folder yet."""


class IncompatibleIndex(IndexProblem):
    """The index was built with another embedding model or other chunk settings."""


class CorruptIndex(IndexProblem):
    """No generation of the index passes verification."""


class IndexBusy(IndexProblem):
    """Another build holds the index lock."""


class StoreUnavailable(IndexProblem):
    """The configured store (a Qdrant server) cannot be reached or used."""
