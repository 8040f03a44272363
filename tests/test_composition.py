"""How answers are composed, on the real model and real indexes of small documents."""

import pytest

from qa import answer
from qa.questions import answer_slot, asks_name, asks_who, implied_terms
from qa.text import terms

PEOPLE = (
    "山田花子氏は東京大学の教授で、海洋生物を研究している。\n"
    "翌年の学会では多くの研究者が発表した。\n"
    "会場は大阪の国際会議場だった。\n"
    "学会の基調講演をしたのは山田氏だった。\n"
)


def _write(settings, name: str, text: str) -> None:
    (settings.docs_dir / name).write_text(text, encoding="utf-8")


def _write_around(settings, name: str, before: str, sentence: str, after: str = "") -> None:
    """Write a document around a sentence long enough for the lead to be cut to clauses."""
    assert len(sentence) > settings.lead_max_chars
    _write(settings, name, f"{before}{sentence}{after}\n")


@pytest.fixture
def own_docs(settings):
    for path in settings.docs_dir.iterdir():
        path.unlink()
    return settings


def test_who_question_also_cites_where_the_person_is_introduced(own_docs) -> None:
    _write(own_docs, "people.txt", PEOPLE)
    a = answer("学会の基調講演をしたのは誰ですか？", settings=own_docs)
    assert not a.abstained
    assert "山田氏" in a.citations[0].quote
    assert [c.quote for c in a.citations[1:]] == [
        "山田花子氏は東京大学の教授で、海洋生物を研究している。"
    ]
    # The same question without "who" gets no introduction.
    other = answer("学会の基調講演について教えてください", settings=own_docs)
    assert all("山田花子" not in c.quote for c in other.citations)


def test_asked_who_a_named_person_is_the_introduction_leads(own_docs) -> None:
    _write(own_docs, "people.txt", PEOPLE)
    a = answer("基調講演をした山田氏とは誰ですか？", settings=own_docs)
    assert [c.quote for c in a.citations] == [
        "山田花子氏は東京大学の教授で、海洋生物を研究している。",
        "学会の基調講演をしたのは山田氏だった。",
    ]


def test_who_answer_clause_is_stretched_to_the_name(own_docs) -> None:
    sentence = (
        "2010年の秋に東京の国際会議場で開かれた第三回国際海洋会議の基調講演は大変な評判を呼び、"
        "各国の新聞やテレビでも連日のように大きく報じられたが、"
        "その講演をしたのは日本海洋学会の会長を長く務めた、山田花子氏であった。"
    )
    _write_around(own_docs, "congress.txt", "海洋会議は毎年開かれる。", sentence)
    a = answer("第三回国際海洋会議の基調講演をしたのは誰ですか？", settings=own_docs)
    assert "山田花子氏" in a.citations[0].quote
    # Not asked who, the best clauses are quoted without the name.
    other = answer("第三回国際海洋会議の基調講演の評判はどうでしたか？", settings=own_docs)
    assert "山田花子" not in other.text


def test_quote_is_the_whole_sentence_even_when_a_chunk_starts_inside_it(own_docs) -> None:
    sentence = (
        "北海道の東部にある摩周湖は周囲を急な崖に囲まれた火口湖で透明度の高い湖として"
        "古くから知られており世界でも有数の澄んだ水をたたえている。"
    )
    filler = "札幌は北海道の道庁所在地である。函館には有名な夜景がある。"
    _write(own_docs, "lake.txt", filler + sentence + filler)
    small = own_docs.replace(chunk_size=50, chunk_overlap=0)
    a = answer("世界でも有数の澄んだ水をたたえている湖はどこですか？", settings=small)
    assert a.citations[0].quote == sentence
    assert sentence not in a.citations[0].passage.text  # the chunk holds only part of it


def test_a_clause_window_never_cuts_a_quoted_title_in_two(own_docs) -> None:
    _write(
        own_docs,
        "talk.txt",
        "その日、「海と森と人の暮らし:百年の記録」(英題 Sea, Forest and People)と題された講演で"
        "佐藤氏は、「森を守ることは海を守ることであり、その逆もまた真である」と語り、"
        "会場の聴衆から大きな拍手を受けた。\n",
    )
    a = answer("講演のタイトルは何ですか？", settings=own_docs)
    assert not a.abstained, a.reason  # the title is in quotes with と題, not called タイトル
    assert "「海と森と人の暮らし:百年の記録」" in a.citations[0].quote


def test_a_clause_window_takes_in_the_whole_parenthesis_it_reaches_into(own_docs) -> None:
    _write(
        own_docs,
        "library.txt",
        "市は翌年の春に、駅前の古い倉庫を改装した新しい図書館を開館し、多くの市民や観光客が訪れて"
        "大変なにぎわいとなった（なお、この図書館は市内で最も古い木造建築の一つであり、"
        "2030年3月まで市の文化財に指定されていた）。図書館の隣には公園がある。\n",
    )
    a = answer("駅前の図書館はいつまで市の文化財に指定されていたか？", settings=own_docs)
    lead = a.citations[0].quote
    assert "2030年3月まで" in lead
    assert lead.count("（") == lead.count("）") == 1


def test_what_is_it_called_question_also_cites_the_sentence_that_gives_the_name(own_docs) -> None:
    described = "梅雨の期間中に雨がほとんど降らない場合がある。"
    named = "このような年のことを空梅雨（からつゆ）という。"
    _write(
        own_docs, "rain.txt", f"梅雨は初夏の長雨である。{described}{named}梅雨の後は夏になる。\n"
    )
    a = answer("梅雨の期間中に雨がほとんど降らない場合を何という？", settings=own_docs)
    assert [c.quote for c in a.citations] == [described, named]
    # Asked without "what is it called", the description alone answers.
    assert [c.quote for c in answer("梅雨の期間中に雨は降りますか", settings=own_docs).citations][
        :1
    ] == [described]


def test_a_question_word_with_a_particle_is_answered_by_the_phrase_with_it(own_docs) -> None:
    sentence = (
        "社長によると、地方の小売店の店主からは、そういった要望がよく寄せられるが、"
        "大手の取引先およびアジア地域の販売代理店からの新製品に関する意見は、"
        "多くの場合、来年度以降の価格の大幅な引き下げと保証期間の延長を求めるものだという。"
    )
    _write_around(
        own_docs,
        "launch.txt",
        "新製品の発表会は東京で開かれた。",
        sentence,
        "「小型化への要望はそれほど多くない」と社長は述べた。",
    )
    a = answer("新製品の小型化を望む声は主に誰から寄せられますか？", settings=own_docs)
    assert a.citations[0].quote == "地方の小売店の店主からは、そういった要望がよく寄せられるが"


def test_implied_terms_stand_for_question_words_said_another_way() -> None:
    title = set(terms("タイトル"))
    assert implied_terms("「On the Wire」と題された講演", title | {"講演"}) == title
    assert implied_terms("題名は後に改められた", title) == title
    assert implied_terms("講演で話した", title) == set()
    assert implied_terms("「On the Wire」と題された講演", {"講演"}) == set()  # タイトル not asked


@pytest.mark.parametrize(
    ("kind", "question", "expected"),
    [
        (asks_who, "講演したのは誰ですか？", True),
        (asks_who, "Who gave the talk?", True),
        (asks_who, "Whose idea?", True),
        (asks_who, "講演のタイトルは何ですか？", False),
        (asks_who, "What is a whole number?", False),
        (asks_name, "梅雨の中休みを何という？", True),
        (asks_name, "これを何と呼ぶか", True),
        (asks_name, "リズムは日本語でどう訳される？", True),
        (asks_name, "なんて言いますか", True),
        (asks_name, "何が降りますか", False),
        (asks_name, "梅雨という言葉の由来は？", False),
    ],
)
def test_question_kinds(kind, question: str, expected: bool) -> None:
    assert kind(question) is expected


@pytest.mark.parametrize(
    ("question", "passage", "fills"),
    [
        ("誰から聞かれますか", "開発者からは、よく聞かれる", True),
        ("誰から聞かれますか", "評議会からの意見は", False),  # から modifies a noun here
        ("どこからの撤退を求めたか", "樺太からの日本軍", True),
        ("いつまで続いたか", "19世紀まで続いた", True),
        ("いつまで続いたか", "続いたままで", False),  # no noun before the particle
    ],
)
def test_answer_slot(question: str, passage: str, fills: bool) -> None:
    slot = answer_slot(question)
    assert slot is not None
    assert bool(slot.search(passage)) is fills
    assert answer_slot("講演したのは誰ですか？") is None
