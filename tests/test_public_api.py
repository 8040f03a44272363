import subprocess
import sys

import qa

# The public API. A new public name is a decision: add it here, and to the README's API section.
PUBLIC = [
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


def test_all_is_exactly_the_public_api() -> None:
    assert qa.__all__ == PUBLIC
    star: dict[str, object] = {}
    exec("from qa import *", star)
    assert sorted(n for n in star if n != "__builtins__") == PUBLIC


def test_all_is_sorted_and_documented() -> None:
    assert qa.__all__ == sorted(qa.__all__)
    for name in qa.__all__:
        assert getattr(qa, name).__doc__, name


def test_import_is_cheap_and_silent() -> None:
    code = (
        "import sys, qa; heavy = {'torch', 'faiss', 'gradio', 'sentence_transformers'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]" and result.stderr == ""
