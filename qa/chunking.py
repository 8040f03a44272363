"""Japanese-aware chunking with exact character offsets."""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .types import Chunk, Document

# Coarse to fine: paragraphs, lines, sentence ends (Japanese and Latin), commas, spaces,
# and finally single characters so that no text is ever dropped.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", ". ", "、", "，", ", ", " ", "　", ""]


def chunk_document(
    doc: Document,
    chunk_size: int,
    chunk_overlap: int,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[Chunk]:
    """Split a document into chunks of at most `chunk_size` characters and `max_tokens` tokens.

    Example: "東京。大阪。" (chunk_size 3) -> ["東京。", "大阪。"], each with its start offset.
    """
    texts = _split(doc.text, chunk_size, chunk_overlap)
    fitted: list[str] = []
    for text in texts:
        fitted.extend(_fit_tokens(text, chunk_overlap, count_tokens, max_tokens))
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{i}", doc_id=doc.doc_id, start=start, end=start + len(t), text=t
        )
        for i, (start, t) in enumerate(_locate(doc.text, fitted, chunk_overlap))
    ]


def _split(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",  # a sentence keeps its 。 instead of the next one starting with it
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        strip_whitespace=True,
    )
    return splitter.split_text(text)


def _fit_tokens(
    text: str, chunk_overlap: int, count_tokens: Callable[[str], int], max_tokens: int
) -> list[str]:
    """Re-split a chunk until every piece fits the model (rare: NFKC can expand characters)."""
    if count_tokens(text) <= max_tokens:
        return [text]
    half = max(1, len(text) // 2)
    return [
        piece
        for part in _split(text, half, min(chunk_overlap, half // 4))
        for piece in _fit_tokens(part, chunk_overlap, count_tokens, max_tokens)
    ]


def _locate(text: str, pieces: list[str], chunk_overlap: int) -> list[tuple[int, str]]:
    """Find each piece in order.

    A piece starts after the previous piece's start and at most `chunk_overlap` characters
    before its end, which pins repeated text to the right occurrence.
    """
    located: list[tuple[int, str]] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            raise AssertionError("chunker produced text that is not in the document")
        located.append((start, piece))
        cursor = max(start + 1, start + len(piece) - chunk_overlap)
    return located
