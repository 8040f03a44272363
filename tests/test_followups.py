"""Two-turn conversations: second turns that refer back (tests/data/followups.jsonl over the
seed article, conversations built from the held-out paragraphs of tests/data/jsquad-sample.json,
`qa.evaluation_followups`, JSQuAD v1.3 valid, JGLUE, CC BY-SA 4.0; and English ones written for
kotae, benchmarks/data/english-followups.jsonl) and second turns that change the subject."""

import json
from pathlib import Path

import pytest

from qa import answer, search
from qa.answering import minimums
from qa.config import Settings
from qa.evaluation import SquadIndex, asked_cases, index_squad, translated_cases
from qa.evaluation_answers import NOWHERE, absent_negatives, grouped, read_cases
from qa.evaluation_followups import (
    ask_follow_ups,
    conversations,
    referring,
    switches,
    written_conversations,
)
from qa.evaluation_qa import overlaps
from qa.questions import search_query

from .conftest import DATA, SEED_ID, SEEDS

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
WRITTEN = Path(__file__).parent.parent / "benchmarks" / "data"
CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "followups.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _holds_evidence(case, spans) -> bool:
    start = ARTICLE.index(case["evidence"])
    evidence = (start, start + len(case["evidence"]))
    return any(overlaps(evidence, span) for span in spans)


def test_follow_ups_find_and_cite_their_evidence(seed_settings) -> None:
    retrieved, cited = [], []
    for case in CASES:
        first, second = case["turns"]
        a = answer(second, history=[{"role": "user", "content": first}], settings=seed_settings)
        assert a.searched_query.startswith(first)  # the follow-up borrowed the first turn
        hits = search(a.searched_query, k=3, settings=seed_settings)
        if _holds_evidence(case, [(h.start, h.end) for h in hits]):
            retrieved.append(case["id"])
        if _holds_evidence(case, [(c.start, c.end) for c in a.citations]):
            cited.append(case["id"])
    assert len(retrieved) >= 0.8 * len(CASES), f"evidence in the top 3 passages for {retrieved}"
    # Measured 12/16 (ja02, ja07, ja11 and ja17 miss; 11/16 with chunks across paragraphs):
    # the reader reads the follow-up as asked, which held-out follow-ups favour
    # (test_held_out_follow_ups_are_read_as_asked); reading both turns, 15/16 were cited here.
    # The seed is a diagnostic: nothing was chosen on it.
    assert len(cited) >= 11, f"evidence cited for {cited}"


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("それはいつ？", ["Xenのドライバは？"], "Xenのドライバは？ それはいつ？"),
        ("Who said that?", ["GPL license?"], "GPL license? Who said that?"),
        ("なぜ？", ["Xenとは？", "それはいつ？"], "Xenとは？ それはいつ？ なぜ？"),
        ("ノベルが開発中のXenの仮想化ドライバのライセンスは？", ["講演は？"], None),
        ("それは？", [], None),
        ("ヴェルトハイムはどこの州と隣接している？", ["Xenとは？"], None),  # どこの names it
        ("それは？", [{"role": "assistant", "content": "答え"}], None),
    ],
)
def test_search_query_resolves_follow_ups(question, history, expected) -> None:
    assert search_query(question, history) == (expected or question)


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> SquadIndex:
    work = tmp_path_factory.mktemp("follow-ups")
    return index_squad(DATA / "jsquad-sample.json", work, Settings(cache_dir=model_cache))


def test_held_out_follow_ups_are_read_as_asked(sample_index) -> None:
    cases = conversations(sample_index.paragraphs, 100, splits=("heldout",))
    as_asked = ask_follow_ups(cases, sample_index)["heldout"]
    searched = ask_follow_ups(cases, sample_index, "searched")["heldout"]
    assert as_asked.conversations == searched.conversations == 36
    # Measured with the fifth reader run and this round's selector: as asked, contains 0.972,
    # abstains 0.000, negatives answered 0.171 (35); the reader reading both turns (searched):
    # 0.722 / 0.028 / 0.057. Last round's selector: 0.944 / 0.028 / 0.143 as asked.
    assert as_asked.contained >= 0.85 and as_asked.contained > searched.contained, as_asked
    assert as_asked.abstained <= 0.10 and as_asked.negatives_answered <= 0.30, as_asked


def test_a_change_of_subject_is_answered_as_if_asked_alone(sample_index) -> None:
    cases = switches(sample_index.paragraphs, 60, splits=("heldout",))
    asked = ask_follow_ups(cases, sample_index)["heldout"]
    alone = ask_follow_ups(cases, sample_index, "alone")["heldout"]
    assert asked.conversations == alone.conversations == 60
    # Measured over 100 such conversations: 0.900 / 0.030 / 0.071 either way. A question that
    # names everything it asks about is searched on its own, whatever came before; one that
    # points back by a word of its own ("its") is searched with the earlier turn, which costs
    # a little (benchmarks/eval_followups.py, held-out switches, as asked against alone:
    # JSQuAD contains 0.910 against 0.920, English 0.818 against 0.848).
    assert asked.contained >= alone.contained - 0.04, (asked, alone)
    assert asked.abstained <= alone.abstained + 0.04, (asked, alone)


@pytest.fixture(scope="module")
def english_index(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> SquadIndex:
    work = tmp_path_factory.mktemp("english-follow-ups")
    return index_squad(WRITTEN / "english-articles.json", work, Settings(cache_dir=model_cache))


def test_a_question_naming_its_subject_leaves_the_conversation_out(english_index) -> None:
    s = english_index.settings
    question = "On what date was Lisbon hit by its great earthquake?"  # "its" is its own
    switch = answer(question, history=["When did Marie Curie move to Paris?"], settings=s)
    assert switch.searched_query == question
    assert not switch.abstained and "1755" in switch.short
    follow_up = answer("Where does it rise?", history=["How long is the Danube?"], settings=s)
    assert follow_up.searched_query == "How long is the Danube? Where does it rise?"
    assert "Black Forest" in follow_up.short


def test_a_follow_up_reads_the_part_of_the_document_it_asks_about(english_index) -> None:
    s = english_index.settings
    # The conversation finds Vermeer's paragraph; the follow-up's answer is in its second chunk.
    a = answer(
        "What blue pigment did he use?",
        history=["How many paintings are attributed to Vermeer?"],
        settings=s,
    )
    assert a.searched_query.startswith("How many paintings")
    assert not a.abstained and "ultramarine" in a.short, a.reason


def test_held_out_english_follow_ups(english_index) -> None:
    cases = written_conversations(WRITTEN / "english-followups.jsonl", english_index.paragraphs)
    asked = ask_follow_ups([c for c in cases if c.split == "heldout"], english_index)["heldout"]
    assert asked.conversations == 44
    # Measured: contains 0.909, abstains 0.045, negatives answered 0.045 (44); asked without
    # the first turn 0.841 / 0.068 / 0.159, and before `questions.placed` 0.795 / 0.136 / 0.114
    # (benchmarks/README.md, "Follow-ups").
    assert asked.contained >= 0.80 and asked.abstained <= 0.12, asked
    assert asked.negatives_answered <= 0.20, asked


@pytest.fixture(scope="module")
def english_articles(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> SquadIndex:
    work = tmp_path_factory.mktemp("english-articles")
    settings = Settings(cache_dir=model_cache)
    return index_squad(WRITTEN / "english-articles.json", work, settings, articles=True)


def test_an_article_index_knows_where_each_paragraph_is(english_articles) -> None:
    documents = english_articles.searcher.store.documents
    assert len(documents) == 24  # one per article
    places = english_articles.places
    for place, paragraph in zip(places, english_articles.paragraphs, strict=True):
        assert documents[place.doc_id].text[place.start : place.end] == paragraph.context


def test_a_paragraph_left_out_of_its_article_is_gone_and_its_questions_are_negatives(
    tmp_path: Path, model_cache: Path
) -> None:
    # benchmarks/absent_negatives.py: the article re-chunked without the paragraph, as a user
    # who never had that paragraph would have it.
    path = WRITTEN / "english-articles.json"
    settings = Settings(cache_dir=model_cache)
    without = index_squad(path, tmp_path, settings, articles=True, omit=frozenset({1}))
    gone = without.paragraphs[1]
    assert without.places[1] == NOWHERE
    documents = without.searcher.store.documents
    assert not any(gone.context in d.text for d in documents.values())
    for n, (place, paragraph) in enumerate(zip(without.places, without.paragraphs, strict=True)):
        if n != 1:
            assert documents[place.doc_id].text[place.start : place.end] == paragraph.context
    cases = asked_cases(without.paragraphs, without.places)
    asked = [c for c in cases if c.paragraph == 1]
    confidences = list(absent_negatives(asked, without.settings))
    assert len(confidences) == len(asked) == len(gone.questions)
    assert all(isinstance(m, float) for m in confidences)  # the answers are nowhere else


def test_held_out_english_follow_ups_in_whole_articles(english_articles) -> None:
    cases = written_conversations(WRITTEN / "english-followups.jsonl", english_articles.paragraphs)
    asked = ask_follow_ups([c for c in cases if c.split == "heldout"], english_articles)
    got = asked["heldout"]
    assert got.conversations == 44
    # Measured: contains 0.909, abstains 0.023, negatives answered 0.023 (44), as over one
    # document per paragraph (1.000 / 0.000 / 0.000 with chunks across paragraphs); asked
    # without the first turn 0.841 / 0.068 / 0.159 (benchmarks/README.md, "In whole articles").
    assert got.contained >= 0.90 and got.abstained <= 0.10, got
    assert got.negatives_answered <= 0.15, got


def test_held_out_single_questions_in_whole_articles(english_articles) -> None:
    paragraphs, places = english_articles.paragraphs, english_articles.places
    cases = asked_cases(paragraphs, places)
    cases += translated_cases(WRITTEN / "english-articles-ja.jsonl", paragraphs, places)
    # A negative leaves out only the chunks over the answer's paragraph: the rest of its
    # article stays, as hard negatives.
    s = english_articles.settings
    got = grouped(list(read_cases([c for c in cases if c.split == "heldout"], s)), minimums(s))
    english, japanese = got["heldout/en-en"], got["heldout/ja-en"]
    assert english.questions == japanese.questions == english.negatives == 66
    # Measured (contains / abstains / negatives answered): English 0.848 / 0.045 / 0.197,
    # Japanese over English 0.727 / 0.106 / 0.455, as over one document per paragraph; with
    # chunks that crossed paragraphs 0.818 / 0.061 / 0.197 and 0.682 / 0.136 / 0.455
    # (benchmarks/README.md, "In whole articles").
    assert english.contained >= 0.80 and english.abstained <= 0.10, english
    assert english.negatives_answered <= 0.30, english
    assert japanese.contained >= 0.65 and japanese.abstained <= 0.17, japanese
    assert japanese.negatives_answered <= 0.55, japanese


@pytest.mark.parametrize(
    ("question", "title", "expected"),
    [
        ("コンゴ共和国の大統領選挙はいつ", "コンゴ共和国", "その大統領選挙はいつ"),
        ("ラオスは何を実施した？", "ラオス", "それは何を実施した？"),
        ("初のプロの女性落語家は誰", "落語家", None),  # part of a compound noun
        ("多くのポルトガル人が移住した国は", "ポルトガル", None),  # part of a word
    ],
)
def test_follow_ups_name_the_topic_by_a_pronoun(question, title, expected) -> None:
    assert referring(question, title) == expected
