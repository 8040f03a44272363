"""An English question's lexical query: JMdict's Japanese headwords of its words (the real
dictionary from the jamdict-data package, its gloss table made once in the session's cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.dictionary import Dictionary, load_dictionary
from qa.errors import ModelUnavailable


@pytest.fixture(scope="module")
def dictionary(model_cache: Path) -> Dictionary:
    found = load_dictionary(model_cache, 3)
    assert found is not None
    return found


def _added(dictionary: Dictionary, question: str, held: set[str]) -> list[str]:
    """The headwords added to the question, given what the index holds."""
    query = dictionary.lexical_query(question, held.__contains__)
    assert query.startswith(question)
    return query[len(question) :].split()


def test_only_headwords_the_index_holds_are_added(dictionary: Dictionary) -> None:
    held = {"共和国", "コンゴ", "首相", "パリ"}
    added = _added(dictionary, "What is the capital of the Republic of the Congo?", held)
    assert added == ["共和国", "コンゴ"]


def test_a_name_takes_the_spelling_the_index_holds(dictionary: Dictionary) -> None:
    """JMnedict has many kanji for "Tokugawa"; the index decides which one is meant."""
    assert _added(dictionary, "Who was Tokugawa Ieyasu?", {"徳川"}) == ["徳川"]
    assert _added(dictionary, "Who was Tokugawa Ieyasu?", {"德川"}) == []


def test_a_phrase_is_looked_up_before_its_words(dictionary: Dictionary) -> None:
    """ "prime minister" is 首相, not "minister" (牧師, a church minister)."""
    held = {"首相", "牧師", "日本"}
    added = _added(dictionary, "Who was the first prime minister of Japan?", held)
    assert "首相" in added and "牧師" not in added and "日本" in added


def test_inflected_and_accented_words_find_their_gloss(dictionary: Dictionary) -> None:
    assert _added(dictionary, "Which castles stand in Tōkyō?", {"城", "東京"}) == ["城", "東京"]


def test_at_most_terms_headwords_per_word(model_cache: Path) -> None:
    """ "year" has several common headwords (年, 年間, 年度, ...); the index holds them all."""
    held = {"年", "年間", "年度", "年次", "学年", "歳"}
    for terms in (1, 2, 3):
        added = _added(Dictionary(model_cache, terms), "year", held)
        assert 1 <= len(added) <= terms


def test_japanese_and_untranslatable_queries_are_searched_as_they_are(
    dictionary: Dictionary,
) -> None:
    assert (
        dictionary.lexical_query("コンゴ共和国の首都は？", lambda _: True)
        == "コンゴ共和国の首都は？"
    )
    # An English index holds no Japanese headword: the question alone is searched.
    question = "What is the capital of the Republic of the Congo?"
    assert dictionary.lexical_query(question, lambda _: False) == question
    assert load_dictionary(dictionary.cache_dir, 0) is None


def test_an_unreadable_dictionary_is_a_clear_error_and_leaves_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jamdict_data

    monkeypatch.setattr(jamdict_data, "JAMDICT_DB_PATH", str(tmp_path / "missing.db"))
    with pytest.raises(ModelUnavailable, match="QA_DICTIONARY_TERMS=0"):
        Dictionary(tmp_path / "cache", 8).lexical_query("What is the capital?", lambda _: True)
    assert not list((tmp_path / "cache").glob("jmdict-glosses-*"))
