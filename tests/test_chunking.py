import pytest

from qa.chunking import chunk_document, paragraphs
from qa.types import Document

from .conftest import SEED_ID, SEEDS


def _doc(text: str) -> Document:
    return Document("d.txt", "t", text, "0" * 64)


def _check_invariants(doc: Document, chunks, chunk_size: int) -> None:
    covered = [False] * len(doc.text)
    previous_start = -1
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert 0 < len(c.text) <= chunk_size
        assert c.start > previous_start  # in document order
        previous_start = c.start
        for i in range(c.start, c.end):
            covered[i] = True
    lost = [ch for ch, seen in zip(doc.text, covered, strict=True) if not seen and not ch.isspace()]
    assert lost == []  # only whitespace may fall between chunks


TEXTS = {
    "seed": (SEEDS / SEED_ID).read_text(encoding="utf-8"),
    "english": "Microsoft will not allow it. " * 60,
    "mixed": "LinuxとWindowsの相互運用性。Interoperability matters, said Ramji. " * 30,
    "full-width": "ＡＢＣ１２３、ｶﾀｶﾅ。" * 80,
    "no-separators": "あ" * 1500,
    "repeated-lines": "同じ行です\n" * 200,
}


@pytest.mark.parametrize("name", TEXTS)
def test_chunks_cover_the_text_with_exact_offsets(name: str) -> None:
    doc = _doc(TEXTS[name])
    chunks = chunk_document(doc, 200, 40, len, 10_000)
    _check_invariants(doc, chunks, 200)


def test_japanese_sentences_end_chunks_at_the_full_stop():
    doc = _doc("東京は晴れ。大阪は雨。京都は雪。")
    chunks = chunk_document(doc, 12, 0, len, 100)
    assert [c.text for c in chunks] == ["東京は晴れ。大阪は雨。", "京都は雪。"]


def test_overlap_starts_at_a_clause_boundary():
    doc = _doc("一つ目の文です。二つ目の文、ここまで。三つ目の文です。")
    chunks = chunk_document(doc, 16, 6, len, 100)
    assert [c.text for c in chunks] == [
        "一つ目の文です。",
        "二つ目の文、",
        "二つ目の文、ここまで。",  # the overlap reaches back to the previous 。
        "ここまで。三つ目の文です。",
    ]


def test_chunks_stay_inside_paragraphs_and_a_short_one_joins_the_next():
    first = "東京は日本の首都である。" * 15  # 180 characters
    second = "大阪は西日本の中心である。" * 12
    heading = "京都について"  # under SHORT_PARAGRAPH: it belongs to what follows
    third = "京都は古い都である。" * 20
    doc = _doc("\n\n".join([first, second, heading, third]))
    chunks = chunk_document(doc, 400, 80, len, 10_000)
    assert [c.text for c in chunks] == [first, second, f"{heading}\n\n{third}"]
    _check_invariants(doc, chunks, 400)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("見出し\n\n本文。", [(0, 8)]),  # a short first paragraph joins the next
        ("あ" * 90 + "\n\n末尾", [(0, 94)]),  # a short last one joins the previous
        ("あ" * 90 + "\n \n\n" + "い" * 90, [(0, 90), (94, 184)]),  # blank lines may hold spaces
        ("\n\n" + "う" * 90 + "\n\n", [(2, 92)]),
        ("", []),
    ],
)
def test_paragraphs_are_split_at_blank_lines(text: str, expected: list[tuple[int, int]]) -> None:
    assert paragraphs(text) == expected


def test_empty_document_has_no_chunks():
    assert chunk_document(_doc(""), 200, 40, len, 100) == []


def test_no_chunk_exceeds_the_model_token_limit(tiny_embedder) -> None:
    # Only the tokenizer matters here, and the tiny model has the real one.
    # NFKC expands U+FDFA to 18 characters: 400 of them are thousands of tokens.
    hostile = "\ufdfa" * 400 + "絵文字😀🎉" * 100 + " ".join(["x"] * 400)
    doc = _doc(hostile + TEXTS["seed"])
    chunks = chunk_document(doc, 400, 80, tiny_embedder.count_tokens, tiny_embedder.max_tokens)
    _check_invariants(doc, chunks, 400)
    assert max(tiny_embedder.count_tokens(c.text) for c in chunks) <= tiny_embedder.max_tokens
    assert tiny_embedder.count_tokens("\ufdfa" * 400) > tiny_embedder.max_tokens  # the case is real
