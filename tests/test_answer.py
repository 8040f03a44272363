"""answer() and search() on the real model and a real on-disk index of the seed article."""

import re
import statistics

import pytest

from qa import answer, search
from qa.answering import CROSS_LINGUAL_NOTE
from qa.errors import InvalidQuestion
from qa.evaluation import overlaps
from qa.text import match_key

from .conftest import SEED_ID, SEEDS, dev_cases

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
ANSWERABLE = [c for c in dev_cases() if c["answers"]]
UNANSWERABLE = [c for c in dev_cases() if not c["answers"]]


def _norm(text: str) -> str:
    return match_key(text).replace(" ", "")


def _overlaps_evidence(case, citation) -> bool:
    start = ARTICLE.find(case["evidence"])
    assert start >= 0, "evidence must be verbatim article text"
    return overlaps((start, start + len(case["evidence"])), (citation.start, citation.end))


@pytest.fixture(scope="module")
def dev_answers(seed_settings):
    return {c["id"]: answer(c["question"], settings=seed_settings) for c in dev_cases()}


def test_citations_are_verbatim_spans_with_markers(dev_answers) -> None:
    for a in dev_answers.values():
        if a.abstained:
            assert a.citations == []
            continue
        assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
        assert sorted(map(int, re.findall(r"\[(\d+)\]", a.text))) == [c.n for c in a.citations]
        for c in a.citations:
            assert c.doc_id == SEED_ID
            assert c.quote == ARTICLE[c.start : c.end]
            assert c.quote in a.text  # the answer says only what the document says


def test_dev_citations_overlap_the_evidence(dev_answers) -> None:
    found = [
        c["id"]
        for c in ANSWERABLE
        if any(_overlaps_evidence(c, cit) for cit in dev_answers[c["id"]].citations)
    ]
    assert len(found) == len(ANSWERABLE), f"evidence cited for {found}"  # the target


def test_dev_answers_contain_a_gold_alias(dev_answers) -> None:
    found = [
        c["id"]
        for c in ANSWERABLE
        if any(_norm(alias) in _norm(dev_answers[c["id"]].text) for alias in c["answers"])
    ]
    # 16/16 measured; the target is 15/16.
    assert len(found) >= 15, f"gold answer contained for {found}"


def test_dev_answers_are_short(dev_answers) -> None:
    lengths = sorted(len(dev_answers[c["id"]].text) for c in ANSWERABLE)
    assert statistics.median(lengths) <= 90, lengths


def test_every_unanswerable_question_abstains_and_names_what_is_missing(dev_answers) -> None:
    for case in UNANSWERABLE:
        a = dev_answers[case["id"]]
        assert a.abstained and a.citations == [], (case["id"], a.text)
        assert "key terms" in a.reason
    # "XenSourceの本社はどこにありますか？": the article names XenSource but not its headquarters.
    assert "本社" in dev_answers["na08"].reason


def test_no_answerable_question_abstains(dev_answers) -> None:
    false = [c["id"] for c in ANSWERABLE if dev_answers[c["id"]].abstained]
    assert false == []  # ja05 asks for the "タイトル"; the article says "と題された"


def test_answers_lead_with_a_span_and_at_most_one_support(dev_answers) -> None:
    for a in dev_answers.values():
        assert len(a.citations) <= 2
        if a.citations:
            chunk = a.citations[0].passage
            assert len(a.citations[0].quote) < len(chunk.text)  # never a whole chunk


def test_english_questions_say_the_quote_is_japanese(dev_answers) -> None:
    for case in ANSWERABLE:
        a = dev_answers[case["id"]]
        if a.abstained:
            continue
        assert a.text.endswith(CROSS_LINGUAL_NOTE) == (case["lang"] == "en"), a.text


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
