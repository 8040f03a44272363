"""answer() and search() on the real model and a real on-disk index of the seed article."""

import re

import pytest

from qa import answer, search
from qa.answering import CROSS_LINGUAL_NOTE, CROSS_LINGUAL_NOTE_JA
from qa.errors import InvalidQuestion
from qa.text import sentence_spans

from .conftest import SEED_ID, SEEDS, dev_cases

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
ANSWERABLE = [c for c in dev_cases() if c["answers"]]
UNANSWERABLE = [c for c in dev_cases() if not c["answers"]]


@pytest.fixture(scope="module")
def dev_answers(seed_settings):
    return {c["id"]: answer(c["question"], settings=seed_settings) for c in dev_cases()}


def test_answers_lead_with_the_short_span_and_cite_its_sentence(dev_answers) -> None:
    for a in dev_answers.values():
        if a.abstained:
            assert a.citations == [] and a.short == "" and a.related
            continue
        (c,) = a.citations
        assert re.findall(r"\[(\d+)\]", a.text) == ["1"]
        assert c.doc_id == SEED_ID and c.quote == ARTICLE[c.start : c.end]
        assert a.text.startswith(f"{a.short} [1]") and ARTICLE[slice(*c.highlight)] == a.short
        # The short answer's sentence(s), never more: every sentence the quote touches holds
        # part of the short answer.
        lo, hi = c.highlight
        touched = [(x, y) for x, y in sentence_spans(ARTICLE) if x < c.end and c.start < y]
        assert all(x < hi and lo < y for x, y in touched), (a.short, c.quote)


def test_abstentions_say_why_in_the_questions_language(dev_answers) -> None:
    for case in dev_cases():
        a = dev_answers[case["id"]]
        if a.abstained:
            expected = {
                "ja": "件の箇所を読みましたが、答えは見つかりませんでした",
                "en": "the reader found no answer",
            }
            assert expected[case["lang"]] in a.reason, a.reason
            assert a.confidence is not None


def test_english_questions_say_the_answer_is_quoted_in_japanese(dev_answers) -> None:
    for case in ANSWERABLE:
        a = dev_answers[case["id"]]
        if not a.abstained:
            assert (CROSS_LINGUAL_NOTE in a.text) == (case["lang"] == "en"), a.text


def test_a_japanese_question_over_english_text_is_answered_and_says_so(settings) -> None:
    (settings.docs_dir / "bridge.md").write_text(
        "The Golden Gate Bridge crosses the strait between San Francisco Bay and the Pacific "
        "Ocean. It opened to traffic in 1937, after four years of construction.\n",
        encoding="utf-8",
    )
    a = answer("ゴールデン・ゲート・ブリッジが開通したのは何年ですか？", settings=settings)
    assert not a.abstained and "1937" in a.short, a
    assert CROSS_LINGUAL_NOTE_JA in a.text and a.citations[0].doc_id == "bridge.md", a.text


def test_search_returns_ranked_hits_from_the_index(seed_settings) -> None:
    hits = search("GPLの下でライセンスされる", k=3, settings=seed_settings)
    assert len(hits) == 3
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert "GPL" in hits[0].text
    assert ARTICLE[hits[0].start : hits[0].end] == hits[0].text


def test_follow_up_borrows_the_previous_question(seed_settings) -> None:
    history = [{"role": "user", "content": "Xenの仮想化ドライバのライセンスは？"}]
    a = answer("それはいつ？", history=history, settings=seed_settings)
    assert "Xen" in a.searched_query and "それはいつ" in a.searched_query


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n\t", "empty"), ("\u200b\u200b", "empty"), ("あ" * 1001, "too long")],
)
def test_bad_questions_are_typed_errors(seed_settings, question: str, message: str) -> None:
    with pytest.raises(InvalidQuestion, match=message):
        answer(question, settings=seed_settings)


def test_expanding_question_is_rejected_quickly(seed_settings) -> None:
    with pytest.raises(InvalidQuestion, match="too long"):
        answer("\ufdfa" * 1000, settings=seed_settings)  # 1,000 chars, 18,000 after NFKC
    with pytest.raises(InvalidQuestion, match="too long"):
        answer("x" * 100_000, settings=seed_settings)
