"""Settings: QA_* parsing by type, flag > environment > default, range checks as one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.cli import main
from qa.config import Settings
from qa.errors import InvalidSetting, QAError


def test_environment_values_take_the_field_type(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("QA_TOP_K", "7")
    monkeypatch.setenv("QA_LEXICAL_WEIGHT", "0.25")
    monkeypatch.setenv("QA_DOCS_DIR", "~/papers")
    monkeypatch.setenv("QA_LLM_URL", "http://127.0.0.1:8080/v1/")
    monkeypatch.setenv("QA_UNRELATED_TOOL_SETTING", "whatever")  # other QA_ variables exist
    monkeypatch.setenv("QA_PORT", "")  # empty counts as unset
    s = Settings.load()
    assert s.top_k == 7 and isinstance(s.top_k, int)
    assert s.lexical_weight == 0.25 and isinstance(s.lexical_weight, float)
    assert s.docs_dir == Path.home() / "papers"  # ~ expanded
    assert s.index_dir == tmp_path / "index"  # set by the conftest fixture
    assert s.llm_url == "http://127.0.0.1:8080/v1"  # trailing slash dropped
    assert s.port == 7860


def test_types_come_from_the_annotations(monkeypatch) -> None:
    """A future bool or optional field is parsed as such, not left a string."""

    class Extended(Settings):
        verbose: bool = False
        limit: int | None = None

    assert (Extended.load().verbose, Extended.load().limit) == (False, None)
    monkeypatch.setenv("QA_VERBOSE", "true")
    monkeypatch.setenv("QA_LIMIT", "3")
    assert (Extended.load().verbose, Extended.load().limit) == (True, 3)
    monkeypatch.setenv("QA_VERBOSE", "maybe")
    with pytest.raises(InvalidSetting, match=r"^QA_VERBOSE must be true or false, got 'maybe'$"):
        Extended.load()


def test_constructing_settings_ignores_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("QA_TOP_K", "9")
    s = Settings(docs_dir=tmp_path / "d", index_dir=tmp_path / "i", cache_dir=tmp_path / "c")
    assert s.top_k == 5 and s.docs_dir == tmp_path / "d"
    assert Settings().index_dir == Path("index")


def test_keyword_overrides_beat_environment_beats_default(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "from-env"))
    assert Settings.load().index_dir == tmp_path / "from-env"
    assert Settings.load(index_dir=tmp_path / "given").index_dir == tmp_path / "given"
    assert Settings.load(index_dir=None).index_dir == tmp_path / "from-env"  # None: not given
    monkeypatch.delenv("QA_INDEX_DIR")
    assert Settings.load().index_dir == Path("index")


def test_cli_flag_beats_environment_beats_default(monkeypatch, tmp_path, capsys) -> None:
    """`qa status` without an index names the folder it looked in."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "from-env"))
    assert main(["status", "--index", str(tmp_path / "from-flag")]) == 2
    assert f"no index in {tmp_path / 'from-flag'};" in capsys.readouterr().err
    assert main(["status"]) == 2
    assert f"no index in {tmp_path / 'from-env'};" in capsys.readouterr().err
    monkeypatch.delenv("QA_INDEX_DIR")
    assert main(["status"]) == 2
    assert "no index in index;" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("QA_PORT", "70000", "QA_PORT must be between 1 and 65535, got 70000"),
        ("QA_PORT", "0", "QA_PORT must be between 1 and 65535, got 0"),
        ("QA_PORT", "abc", "QA_PORT must be a whole number, got 'abc'"),
        ("QA_TOP_K", "0", "QA_TOP_K must be at least 1, got 0"),
        ("QA_TOP_K", "2.5", "QA_TOP_K must be a whole number, got '2.5'"),
        ("QA_BATCH_SIZE", "-4", "QA_BATCH_SIZE must be at least 1, got -4"),
        ("QA_QUEUE_SIZE", "0", "QA_QUEUE_SIZE must be at least 1, got 0"),
        ("QA_MAX_DOCUMENT_CHUNKS", "0", "QA_MAX_DOCUMENT_CHUNKS must be at least 1, got 0"),
        ("QA_LEXICAL_WEIGHT", "-0.1", "QA_LEXICAL_WEIGHT must be between 0 and 1, got -0.1"),
        ("QA_MIN_ANSWER_LOGIT", "160", "QA_MIN_ANSWER_LOGIT must be between -100 and 100, got 160"),
        ("QA_MIN_ANSWER_LOGIT", "nan", "QA_MIN_ANSWER_LOGIT must be a finite number"),
        ("QA_READER_PASSAGES", "0", "QA_READER_PASSAGES must be at least 1, got 0"),
        ("QA_BUILD_LOCK_TIMEOUT", "0", "QA_BUILD_LOCK_TIMEOUT must be greater than 0, got 0"),
        ("QA_CHUNK_SIZE", "49", "QA_CHUNK_SIZE must be at least 50, got 49"),
        (
            "QA_CHUNK_OVERLAP",
            "200",
            "QA_CHUNK_OVERLAP must be between 0 and 199 (under half of chunk_size), got 200",
        ),
        ("QA_CHUNK_OVERLAP", "-1", "QA_CHUNK_OVERLAP must be at least 0, got -1"),
        ("QA_HOST", "   ", "QA_HOST must not be empty"),
        (
            "QA_LLM_URL",
            "ftp://example.org",
            "QA_LLM_URL must be an http:// or https:// URL (or empty, for off)",
        ),
        ("QA_LLM_TIMEOUT", "0", "QA_LLM_TIMEOUT must be greater than 0 and at most 600, got 0"),
        ("QA_LLM_MIN_SUPPORT", "2", "QA_LLM_MIN_SUPPORT must be between 0 and 1, got 2"),
        ("QA_LLM_PASSAGES", "0", "QA_LLM_PASSAGES must be at least 1, got 0"),
    ],
)
def test_out_of_range_values_name_variable_value_and_range(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(InvalidSetting) as raised:
        Settings.load()
    assert str(raised.value).startswith(message)
    assert isinstance(raised.value, QAError)


def test_given_values_are_checked_and_named_by_field(tmp_path) -> None:
    with pytest.raises(InvalidSetting, match=r"^port must be between 1 and 65535, got 0$"):
        Settings.load().replace(port=0)
    with pytest.raises(InvalidSetting, match=r"^chunk_overlap must be between 0 and 24 "):
        Settings(chunk_size=50, chunk_overlap=25)
    with pytest.raises(InvalidSetting, match=r"^unknown setting 'top_kk'$"):
        Settings(top_kk=3)
    assert Settings(chunk_size=50, chunk_overlap=24).chunking_fingerprint()["chunk_size"] == 50
    assert Settings().replace(min_answer_logit=-100).min_answer_logit == -100


def test_replace_ignores_none_and_keeps_settings_frozen_and_hashable() -> None:
    s = Settings.load()
    assert s.replace(top_k=None, port=8000) == Settings.load(port=8000)
    assert s.replace(top_k=None) == s and hash(s.replace()) == hash(s)
    with pytest.raises(Exception, match="frozen"):
        s.port = 1  # type: ignore[misc]


def test_bad_environment_value_is_one_cli_line_with_exit_code_2(monkeypatch, capsys) -> None:
    monkeypatch.setenv("QA_PORT", "abc")
    assert main(["ask", "講演したのは誰ですか？"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "qa: error: QA_PORT must be a whole number, got 'abc'\n"
    assert "Traceback" not in captured.err + captured.out


def test_bad_cli_flag_is_named_by_field(capsys) -> None:
    assert main(["ask", "講演したのは誰ですか？", "-k", "0"]) == 2
    assert capsys.readouterr().err == "qa: error: top_k must be at least 1, got 0\n"


def test_the_llm_api_key_comes_from_the_environment_and_is_never_shown(monkeypatch) -> None:
    monkeypatch.setenv("QA_LLM_API_KEY", "sk-test-4f9e2a")
    s = Settings.load().replace(top_k=3)
    assert s.llm_api_key is not None and s.llm_api_key.get_secret_value() == "sk-test-4f9e2a"
    for shown in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert "sk-test-4f9e2a" not in shown
    assert Settings().llm_url == "" and Settings().llm_api_key is None  # off by default
