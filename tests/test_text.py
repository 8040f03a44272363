from qa.text import clean, match_key, sentence_spans, terms


def test_clean_replaces_surrogates_and_controls_and_newlines():
    assert clean("\ufeffa\r\nb\rc\ud800\x00d\te") == "a\nb\nc\ufffdd\te"


def test_match_key_is_nfkc_casefolded_without_invisibles():
    assert match_key("ＡＢＣ１２３ ｶﾀｶﾅ") == "abc123 カタカナ"
    assert match_key("Win\u200bdows\u202e") == "windows"


def test_terms_are_bigrams_for_cjk_and_words_for_latin():
    assert terms("Linux上で仮想化") == ["linux", "上で", "で仮", "仮想", "想化"]
    assert terms("GPL(GNU General Public License)") == [
        "gpl",
        "gnu",
        "general",
        "public",
        "license",
    ]
    assert terms("氏") == ["氏"]
    assert terms("") == []


def test_full_width_and_half_width_give_the_same_terms():
    assert terms("ＷｉｎｄｏｗｓとＬｉｎｕｘ") == terms("WindowsとLinux")
    assert terms("ｶﾀｶﾅ") == terms("カタカナ")


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_sentence_spans_japanese_and_english():
    text = "東京。 大阪！「京都です。」と言った。\nHello world. Bye"
    assert sentences(text) == [
        "東京。",
        "大阪！",
        "「京都です。」",
        "と言った。",
        "Hello world.",
        "Bye",
    ]


def test_a_plain_heading_line_is_not_part_of_the_sentence_below_it():
    text = (
        "Introduction\nKotae answers questions from the documents it is given and\n"
        "cites the passage it read.\n概要\nkotaeは文書から質問に答え、読んだ箇所を\n引用して示す。"
    )
    assert sentences(text) == [
        "Introduction",
        "Kotae answers questions from the documents it is given and\ncites the passage it read.",
        "概要",
        "kotaeは文書から質問に答え、読んだ箇所を\n引用して示す。",
    ]
    # A line of kanji prints about as wide as one of twice as many Latin letters.
    mixed = (
        "マイクロソフトのオープンソースソフトウェアラボの\n"
        "Director of Open Source Software Lab, Sam Ramji氏が述べた。"
    )
    assert sentence_spans(mixed) == [(0, len(mixed))]


def test_sentence_spans_of_blank_text_is_empty():
    assert sentence_spans("  \n ") == []


def test_a_line_wrapped_inside_a_paragraph_does_not_end_its_sentence():
    text = (
        "The new CEO of Example Corp is\nAlice Example.\n\n# Staff\n- Bob\n- Carol\n"
        "マイクロソフトは、Linux上で\nWindowsの仮想化を認めない。\n・一つ目\n・二つ目"
    )
    assert sentences(text) == [
        "The new CEO of Example Corp is\nAlice Example.",
        "# Staff",
        "- Bob",
        "- Carol",
        "マイクロソフトは、Linux上で\nWindowsの仮想化を認めない。",
        "・一つ目",
        "・二つ目",
    ]
