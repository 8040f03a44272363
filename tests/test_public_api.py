import subprocess
import sys

import qa

from .conftest import ROOT

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


def test_the_readers_weight_format_imports_without_the_stack() -> None:
    # The GPU machine that trains the reader has torch and transformers but not the rest:
    # benchmarks/train_reader.py imports qa.reader there without qa/__init__.py
    # (benchmarks/README.md, "On a GPU").
    code = (
        f"import sys, types; qa = types.ModuleType('qa'); qa.__path__ = [{str(ROOT / 'qa')!r}];"
        "sys.modules['qa'] = qa; import qa.reader;"
        "stack = {'pydantic', 'platformdirs', 'faiss', 'sudachipy', 'selectolax', 'gradio',"
        "'torch', 'transformers'};"
        "print(sorted(stack & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]" and result.stderr == ""
