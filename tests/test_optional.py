"""tests/optional.py: a missing optional component skips a test locally and fails it in CI."""

import sys

import pytest

from .optional import in_ci, require_executable, require_module

ABSENT_MODULE = "kotae_no_such_module"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("yes", True), ("", False), ("false", False), ("0", False)],
)
def test_ci_is_read_from_the_environment(monkeypatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_unset_ci_is_not_ci(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()


def test_missing_module_skips_outside_ci(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="pip install foo"):
        require_module(ABSENT_MODULE, "pip install foo")


def test_missing_module_fails_in_ci(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"needs {ABSENT_MODULE}: pip install foo"):
        require_module(ABSENT_MODULE, "pip install foo")


def test_missing_executable_skips_outside_ci_and_fails_in_ci(monkeypatch, tmp_path) -> None:
    absent = tmp_path / "chromium"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        require_executable(absent, "apt-get install -y chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install"):
        require_executable(absent, "apt-get install -y chromium")
    absent.write_text("not executable")
    with pytest.raises(pytest.fail.Exception):
        require_executable(absent, "apt-get install -y chromium")


def test_present_components_are_returned_in_ci_and_out(monkeypatch) -> None:
    for ci in ("true", ""):
        monkeypatch.setenv("CI", ci)
        assert require_module("json", "stdlib").dumps([]) == "[]"
        assert require_executable(sys.executable, "python").is_file()
