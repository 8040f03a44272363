import subprocess
import sys

import qa


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
