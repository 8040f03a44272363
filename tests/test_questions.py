"""What a question asks about: its content words and terms, whether it points back into the
conversation, its topic named in words for refusals, and the kind of answer it asks for
(SudachiPy's analysis, real)."""

import pytest

from qa.japanese import asked_kind, asked_topic, content_words, held_kinds, refers_back
from qa.questions import content_terms, placed
from qa.types import Hit


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("2007年の売上高はいくらですか？", "2007年の売上高"),
        ("東京タワーが完成したのは何年ですか？", "東京タワーが完成した年"),
        ("会議が開かれたのはどの都市ですか？", "会議が開かれた都市"),
        ("その法案を提出したのは誰ですか", "その法案を提出した人"),
        ("撤退したのはなぜですか", "撤退した理由"),
        ("日本の首都は何という都市ですか", "日本の首都"),
        ("量子化とは何ですか", "量子化"),
        ("新製品の価格は？", "新製品の価格"),
    ],
)
def test_a_question_word_question_names_its_topic(question: str, topic: str) -> None:
    assert asked_topic(question) == topic


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("講演したのは誰ですか？", "person"),
        ("誰が雇ったのですか", "person"),
        ("会議はどこで開かれましたか", "place"),
        ("日米和親条約はいつ締結されたか", "time"),
        ("東京タワーが完成したのは何年ですか？", "time"),
        ("この寺は何世紀に建てられたか", "time"),
        ("何人が参加しましたか", "number"),
        ("2007年の売上高はいくらですか？", "number"),
        ("州はいくつありますか", "number"),
        ("何がリリースされましたか", None),  # a thing: no kind to check
        ("撤退したのはなぜですか", None),
        ("何故撤退したのか", None),  # why, though it starts with 何
        ("どの都市ですか", None),
        ("Who gave the talk?", None),  # English questions are not analysed
    ],
)
def test_a_question_asks_for_a_kind_of_answer(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("1854年に", {"number", "time"}),
        ("昭和初期", {"time"}),
        ("三つ", {"number"}),
        ("ペリー提督", {"person"}),
        ("サンフランシスコ", {"place"}),
        ("仮想化ドライバ", set()),
    ],
)
def test_japanese_text_holds_kinds_of_answer(text: str, kinds: set[str]) -> None:
    assert held_kinds(text) == kinds


@pytest.mark.parametrize(
    "question",
    [
        "何がリリースされましたか",  # no topic before the question word
        "ラムジ氏は誰が雇ったのですか",  # a verb after は: the topic alone would mislead
        "それはいつ？",  # a pronoun names nothing
        "こんにちは",
        "Who gave the talk?",
        "「" + "長い" * 30 + "」は何？",  # longer than a refusal should repeat
    ],
)
def test_other_questions_have_no_topic(question: str) -> None:
    assert asked_topic(question) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("日米和親条約はいつ締結されたか", ["日米和親条約", "締結"]),
        ("講演が行われたのはどの都市ですか？", ["講演", "都市"]),
        ("何人がいくつの賞を受けた？", ["賞"]),  # question words are not what it is about
        ("Xenの仮想化ドライバは？", ["Xen", "仮想化ドライバ"]),
        ("それはいつ？", []),
    ],
)
def test_content_words_are_the_nouns_a_question_is_about(text: str, words: list[str]) -> None:
    assert content_words(text) == words


def test_content_terms_are_bigrams_of_content_words_and_english_words() -> None:
    assert content_terms("講演したのは誰ですか？") == {"講演"}
    assert content_terms("Xenのライセンスは？") == {"xen", "ライ", "イセ", "セン", "ンス"}
    assert content_terms("Who gave the talk at the conference?") == {"gave", "talk", "conference"}
    assert content_terms("長い" * 3000 + "条約") >= {"条約"}  # longer than one analysis


@pytest.mark.parametrize(
    ("question", "refers"),
    [
        ("その大統領選挙はいつ？", True),
        ("それは誰が開発した？", True),
        ("彼女はどこで生まれた？", True),
        ("同社の売上高は？", True),
        ("どこの大学を卒業したの？", False),  # この inside どこの
        ("4本の弦は、それぞれ何の音？", False),  # それ inside それぞれ
        ("何があれば他の色が出せますか？", False),  # あれ inside あれば
        ("Xenのライセンスは？", False),
    ],
)
def test_a_question_refers_back_by_a_whole_word(question: str, refers: bool) -> None:
    assert refers_back(question) is refers


def _hit(chunk_id: str) -> Hit:
    doc_id = chunk_id.split("#")[0]
    return Hit(doc_id, chunk_id, 0, 1, chunk_id, 1.0, 0.9, 0.0)


@pytest.mark.parametrize(
    ("found", "alone", "expected"),
    [
        (["a#0", "b#0"], ["a#1", "c#0"], ["a#1", "b#0"]),
        # A document read twice: the question's chunk, then the conversation's.
        (["a#0", "a#2", "b#0"], ["a#2", "c#0", "a#1"], ["a#2", "a#0", "b#0"]),
        # One long document: the question's and the conversation's best chunks in turn.
        (["a#0", "a#1", "a#2"], ["a#3", "a#4", "a#0"], ["a#3", "a#0", "a#4"]),
        (["a#0", "b#0"], ["c#0", "d#0"], ["a#0", "b#0"]),  # nothing of theirs: as found
        (["b#1", "a#0"], ["a#0", "b#0"], ["b#0", "a#0"]),
    ],
)
def test_a_joined_turn_reads_its_documents_where_the_question_points(
    found: list[str], alone: list[str], expected: list[str]
) -> None:
    got = placed([_hit(c) for c in found], [_hit(c) for c in alone])
    assert [hit.chunk_id for hit in got] == expected
