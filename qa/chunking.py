"""Japanese-aware chunking with exact character offsets."""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .types import Chunk, Document

# Coarse to fine: paragraphs, lines, sentence ends (Japanese and Latin), commas, spaces,
# and finally single characters so that no text is ever dropped.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", ". ", "、", "，", ", ", " ", "　", ""]
# An overlap starts right after one of these, so that it begins with a whole clause or word.
_BOUNDARY = frozenset("\n。！？!?.、，, 　")


def chunk_document(
    doc: Document,
    chunk_size: int,
    chunk_overlap: int,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[Chunk]:
    """Split a document into chunks of at most `chunk_size` characters and `max_tokens` tokens.

    Consecutive chunks share up to `chunk_overlap` characters of context.
    Example: "東京。大阪。" (chunk_size 3, no overlap) -> ["東京。", "大阪。"], with their offsets.
    """
    pieces = [
        fitted
        for piece in _split(doc.text, chunk_size - chunk_overlap)
        for fitted in _fit_tokens(piece, count_tokens, max_tokens)
    ]
    spans = _locate(doc.text, pieces)
    chunks = []
    for i, (start, end) in enumerate(spans):
        if i:
            start = _with_overlap(doc.text, spans[i - 1][0], start, end, chunk_overlap)
            if count_tokens(doc.text[start:end]) > max_tokens:
                start = spans[i][0]
        chunk_id = f"{doc.doc_id}#{i}"
        chunks.append(Chunk(chunk_id, doc.doc_id, start, end, doc.text[start:end]))
    return chunks


def _split(text: str, size: int) -> list[str]:
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",  # a sentence keeps its 。 instead of the next one starting with it
        chunk_size=size,
        chunk_overlap=0,  # overlap is added afterwards, where offsets are exact
        strip_whitespace=True,
    )
    return splitter.split_text(text)


def _fit_tokens(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Re-split a piece until every part fits the model (rare: NFKC can expand characters)."""
    if count_tokens(text) <= max_tokens:
        return [text]
    return [
        fitted
        for part in _split(text, max(1, len(text) // 2))
        for fitted in _fit_tokens(part, count_tokens, max_tokens)
    ]


def _locate(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Spans of consecutive pieces: each starts at or after the previous end (only whitespace
    lies between them), so the first occurrence from there is the right one."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            raise AssertionError("chunker produced text that is not in the document")
        cursor = start + len(piece)
        spans.append((start, cursor))
    return spans


def _with_overlap(text: str, previous_start: int, start: int, end: int, overlap: int) -> int:
    """Move a chunk's start back into the previous chunk, to a clause or word boundary."""
    window = max(previous_start, start - overlap)
    for i in range(window, start):
        if i > 0 and text[i - 1] in _BOUNDARY and not text[i].isspace():
            return i
    return start
