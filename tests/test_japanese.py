import subprocess
import sys
import threading

import pytest

from qa.japanese import has_cjk, morphemes, trim_answer


def trimmed(text: str, span: str, **kwargs: bool) -> str:
    """trim_answer on the first occurrence of `span` in `text`, checked and read back."""
    start = text.index(span)
    end = start + len(span)
    a, b = trim_answer(text, start, end, **kwargs)
    assert start <= a < b <= end, (span, a, b)  # inside the original span, never empty
    return text[a:b]


def test_has_cjk():
    assert has_cjk("Who is ラムジ?") and has_cjk("々") and has_cjk("漢字") and has_cjk("ひらがな")
    assert has_cjk("カタカナー") and has_cjk("〆切")
    assert not has_cjk("Linux and Windows 123") and not has_cjk("") and not has_cjk("Ünïcödé")


def test_text_uses_the_same_definition():
    import qa.japanese
    import qa.text

    assert qa.text.has_cjk is qa.japanese.has_cjk
    assert not hasattr(qa.text, "_CJK") and not hasattr(qa.text, "_CJK_RUN")


def test_morphemes_offsets_are_into_the_text():
    text = "😀ｱｲｳ彼は1928年に"
    got = morphemes(text)
    assert "".join(m.surface for m in got) == text
    assert all(text[m.start : m.end] == m.surface for m in got)
    assert [m.pos[0] for m in got if m.surface == "に"] == ["助詞"]
    assert morphemes("") == []


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        # Dates with particles.
        ("彼は1928年に生まれた。", "1928年に", "1928年"),
        ("1928年から1930年まで東京に住んだ。", "1928年から", "1928年"),
        ("1928年から1930年まで東京に住んだ。", "1928年から1930年まで", "1928年から1930年"),
        ("工事は3月10日まで続いた。", "3月10日まで", "3月10日"),
        ("明治元年より前のこと", "明治元年より", "明治元年"),
        # Places and names, particles glued on either side.
        ("彼女は東京都で生まれた。", "東京都で", "東京都"),
        ("監督の阿部孝が述べた。", "の阿部孝が", "阿部孝"),
        # Honorific suffixes are part of the name phrase (and 氏 names a clan: 山名氏).
        ("会長の山田氏は反対した。", "山田氏は", "山田氏"),
        ("司会は田中さんが務めた。", "田中さんが", "田中さん"),
        ("室町時代の山名氏は守護大名だった。", "山名氏は", "山名氏"),
        # Numbers with counters and prefixes.
        ("約3万人が参加した。", "約3万人が", "約3万人"),
        ("死者は120人に達した。", "120人に", "120人"),
        ("価格は＄100である。", "＄100である", "＄100"),
        ("価格は＄100であった。", "＄100であった", "＄100"),
        ("成長率は5.5%だった。", "5.5%だった", "5.5%"),
        # Brackets: stray ones go, a pair inside the span stays.
        ("作品『ノルウェイの森』は売れた。", "『ノルウェイの森』は", "『ノルウェイの森』"),
        ("「東京」で会議が開かれた。", "「東京」で", "「東京」"),
        ("彼は「東京」と言った。", "東京」と", "東京"),
        ("「東京」と「大阪」が候補だ。", "「東京」と「大阪」が", "「東京」と「大阪」"),
        ("ヴァーゴ(RomainVirgo)が出場した。", "ヴァーゴ(RomainVirgo)が", "ヴァーゴ(RomainVirgo)"),
        # A bracket at either end that pairs with nothing in the span goes; one inside stays.
        ("「丹後丸」(1890年竣工)は", "「丹後丸」(", "「丹後丸」"),
        ("2015年(平成27年)3月14日に開業した。", "2015年(平成27年", "2015年(平成27年"),
        ("2015年(平成27年)3月14日に開業した。", ")3月14日に", "3月14日"),
        ("「Linux and Windows」(互換性)の講演", "「Linux and Windows」(", "「Linux and Windows」"),
        ("会場は(東京)だった。", "(", "("),  # nothing else to keep: it stays
        ("Windows Vista (Home) costs more", "Vista (", "Vista"),
        ("the talk) in San Francisco", ") in San Francisco", "in San Francisco"),
        # Punctuation, whitespace and copulas.
        ("首都は京都、大阪ではない。", "京都、", "京都"),
        ("答えは 京都 です。", " 京都 です。", "京都"),
        ("当時の首都は京都だった。", "京都だった。", "京都"),
        # A verb keeps its inflection; only the particle after it goes.
        ("彼は1928年に生まれた。", "生まれた。", "生まれた"),
        ("彼は東京で生まれてから", "生まれてから", "生まれて"),
        # Latin text: only whitespace and punctuation.
        ("He was born in 1928.", " 1928.", "1928"),
        ("The capital is Paris, not Lyon.", "Paris, ", "Paris"),
        ("It was made in the U.S. in 1950", "U.S. ", "U.S."),
        ("Let f(x) be a function", "f(x) ", "f(x)"),
        ("A word like to and in stays", "like to", "like to"),
        ("バージョンはLinux 2.6です。", "Linux 2.6", "Linux 2.6"),
        ("重さは約20kgほどである。", "約20kgほどで", "約20kgほど"),
        ("この用途に向かないが安い。", "向かないが", "向かない"),
        # A katakana syllable of a name is not the copula ナ.
        ("王の名はナ・ヌーである。", "ナ・ヌーで", "ナ・ヌー"),
        # A span that is nothing but a particle stays that particle.
        ("これは本です。", "は", "は"),
        ("これは 本です。", "は ", "は"),
        ("これは本です。", "は本", "本"),
        ("問題がある。", "がある", "ある"),
    ],
)
def test_trim_answer(text: str, span: str, expected: str):
    assert trimmed(text, span) == expected


def test_trim_answer_unwraps_a_bracketed_phrase_only_when_asked():
    assert trimmed("「東京」で会議", "「東京」で", unwrap=True) == "東京"
    assert (
        trimmed("作品『ノルウェイの森』は", "『ノルウェイの森』は", unwrap=True) == "ノルウェイの森"
    )
    assert (
        trimmed("「東京」と「大阪」が", "「東京」と「大阪」が", unwrap=True) == "「東京」と「大阪」"
    )


def test_trim_answer_never_cuts_inside_a_morpheme():
    text = "彼女は東京都で生まれた。"
    boundaries = {m.start for m in morphemes(text)} | {len(text)}
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            a, b = trim_answer(text, start, end)
            assert start <= a < b <= end
            assert a == start or a in boundaries, (text[start:end], text[a:b])
            assert b == end or b in boundaries, (text[start:end], text[a:b])


def test_trim_answer_uses_the_sentence_context():
    # Alone, a span's first が or で reads as a conjunction and かな as a particle; in the
    # sentence they are a particle and a name (spans from JaQuAD dev, tuning half).
    for text, span, expected, alone in [
        ("翼がロベルト本郷に触発された。", "がロベルト本郷", "ロベルト本郷", "がロベルト本郷"),
        ("世界全体で2012年には増えた。", "で2012年", "2012年", "で2012年"),
        ("父方の祖母のかながいた。", "のかな", "かな", "な"),
    ]:
        assert trimmed(text, span) == expected
        assert trimmed(span, span) == alone
    # The span's edges are the sentence's morpheme boundaries: a reader span that starts
    # inside a word (京都 of 東京都) is left as it is, never extended.
    assert trimmed("彼女は東京都で生まれた。", "京都で") == "京都"


def test_trim_answer_edge_cases():
    assert trim_answer("", 0, 0) == (0, 0)
    assert trim_answer("東京", 1, 1) == (1, 1)
    assert trim_answer("a   b", 1, 4) == (1, 4)  # all whitespace: nothing to keep, unchanged
    assert trim_answer("東京\ud800に", 0, 4) == (0, 3)  # a lone surrogate neither breaks nor goes
    with pytest.raises(ValueError):
        trim_answer("東京", 1, 5)
    with pytest.raises(ValueError):
        trim_answer("東京", 2, 1)


def test_trim_answer_on_a_long_span_and_text():
    sentence = "東京は日本の首都である。"
    text = sentence * 3000  # 36,000 characters: more than the analyser takes at once
    start = text.index("は", 20000)
    end = start + 5000 + 1
    a, b = trim_answer(text, start, end)
    assert text[a:b].startswith("日本") and start < a < b <= end


def test_trim_answer_is_thread_safe():
    text = "彼は1928年に生まれた。"
    results: list[tuple[int, int]] = []

    def work() -> None:
        for _ in range(50):
            results.append(trim_answer(text, 2, 8))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(2, 7)] * 200


def test_importing_qa_does_not_load_the_analyser():
    code = "import sys, qa, qa.japanese, qa.text; print('sudachipy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "False"
