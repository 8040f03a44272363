"""What a question asks about, named in words for refusals (SudachiPy's analysis, real)."""

import pytest

from qa.questions import asked_topic


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
