"""Optional test components: skipped where they are missing, except in CI, where that fails.

On a developer's machine a test that needs something not installed (bm25s, the llama.cpp server,
Debian's chromium) is skipped with the command that installs it. With the CI environment
variable set (CI=true, as CI services set it) the same test fails instead, so that a CI image
missing a component cannot pass by silently skipping what it was meant to check.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

_FALSE = {"", "0", "false", "no", "off"}

# How to install each optional component (`make test` installs all of them).
TEST_EXTRA = "pip install -e '.[test]'"  # bm25s, the reference BM25 scorer
CHROMIUM_HINT = "apt-get install -y chromium fonts-noto-cjk"  # Debian's chromium and a CJK font


def in_ci() -> bool:
    """Whether the CI environment variable is set to a true value ("true", "1", ...)."""
    return os.environ.get("CI", "").strip().lower() not in _FALSE


def missing(what: str, hint: str) -> NoReturn:
    """Skip the test (fail it in CI) because `what` is not installed; `hint` says how to install."""
    message = f"needs {what}: {hint}"
    if in_ci():
        pytest.fail(f"{message} (CI is set: optional components must be installed)", pytrace=False)
    pytest.skip(message)


def require_module(name: str, hint: str) -> ModuleType:
    """The imported module, or a skip (a failure in CI) naming the install command."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(name, hint)


def require_executable(path: str | Path, hint: str) -> Path:
    """The executable file at `path`, or a skip (a failure in CI) naming the install command."""
    file = Path(path)
    if not (file.is_file() and os.access(file, os.X_OK)):
        missing(str(file), hint)
    return file
