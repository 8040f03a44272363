"""How answers are composed around the reader's span, on the tiny model and its random reader
(every span it picks is arbitrary, which is what these invariants must survive)."""

from __future__ import annotations

import pytest

from qa import answer
from qa.answering import ABSTAIN_TEXT, CROSS_LINGUAL_NOTE
from qa.japanese import has_cjk
from qa.types import Answer

from .conftest import SEED_ID, SEEDS, dev_cases

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
QUESTIONS = [c["question"] for c in dev_cases()]


@pytest.fixture(scope="module")
def answers(tiny_seed_settings) -> list[Answer]:
    return [answer(q, settings=tiny_seed_settings) for q in QUESTIONS]


def test_the_short_answer_leads_and_stands_inside_its_quoted_sentence(answers) -> None:
    for a in answers:
        assert not a.abstained  # the tiny fixtures answer at any log-odds
        (cited,) = a.citations
        start, end = cited.highlight
        assert cited.start <= start < end <= cited.end
        assert a.short == ARTICLE[start:end] == a.short.strip() and a.short
        assert cited.quote == ARTICLE[cited.start : cited.end]
        assert a.text.startswith(f"{a.short} [1]")
        assert cited.quote in a.text or cited.quote == a.short
        assert a.confidence is not None


def test_a_quote_is_whole_sentences_or_whole_clauses(answers, tiny_seed_settings) -> None:
    ends = "。．.!?！？」』)）、，,;；:："
    for a in answers:
        (cited,) = a.citations
        before = ARTICLE[cited.start - 1 : cited.start] if cited.start else ""
        after = ARTICLE[cited.end : cited.end + 1]
        assert before in ("", "\n", " ") or before in ends, cited.quote
        assert cited.quote[-1] in ends or after in ("", "\n"), cited.quote
        assert len(cited.quote) <= max(tiny_seed_settings.quote_max_chars, len(a.short))


def test_a_long_sentence_is_cut_to_clauses_around_the_span(tiny_seed_settings) -> None:
    whole = answer("講演したのは誰ですか？", settings=tiny_seed_settings).citations[0]
    s = tiny_seed_settings.replace(quote_max_chars=30)
    cut = answer("講演したのは誰ですか？", settings=s).citations[0]
    assert cut.highlight == whole.highlight
    assert whole.start <= cut.start <= cut.highlight[0] < cut.highlight[1] <= cut.end <= whole.end
    assert len(cut.quote) < len(whole.quote)
    # Whole clauses: the quote starts after a clause mark (or where the sentence does) and
    # ends with one (or where the sentence does).
    assert cut.start == whole.start or ARTICLE[cut.start - 1] in "、，,"
    assert cut.end == whole.end or ARTICLE[cut.end - 1] in "、，,"


def test_english_questions_say_the_answer_is_quoted_in_japanese(tiny_seed_settings) -> None:
    a = answer("Who gave the talk?", settings=tiny_seed_settings)
    assert has_cjk(a.citations[0].quote) and CROSS_LINGUAL_NOTE in a.text


def test_abstaining_offers_the_passages_read_and_why(tiny_seed_settings) -> None:
    strict = tiny_seed_settings.replace(
        min_answer_logit=100.0,
        min_answer_logit_cross_lingual=100.0,
        reader_passages=3,
        reader_passages_cross_lingual=2,
    )
    a = answer("講演したのは誰ですか？", settings=strict)
    assert a.abstained and a.text == ABSTAIN_TEXT and a.citations == [] and a.short == ""
    assert len(a.related) == 3 and all(h.doc_id == SEED_ID for h in a.related)
    assert a.reason.startswith("最も関連する3件の箇所を読みましたが") and "+100.0" in a.reason
    assert a.confidence is not None and a.confidence < 100
    # English over Japanese text reads its own number of passages...
    english = answer("Who gave the talk?", settings=strict)
    assert english.reason.startswith("the reader found no answer in the 2 best passages")
    assert len(english.related) == 2
    # ...but a follow-up searched with the Japanese question it follows reads as deep as one.
    follow = answer("And who gave it?", history=["講演したのは誰ですか？"], settings=strict)
    assert len(follow.related) == 3 and "the 3 best passages" in follow.reason


def test_a_follow_up_is_searched_with_the_question_it_follows(tiny_seed_settings) -> None:
    a = answer(
        "それはいつ？", history=["Xenの仮想化ドライバのライセンスは？"], settings=tiny_seed_settings
    )
    assert a.searched_query.startswith("Xen") and a.question == "それはいつ？"
