"""Text extraction per file format: plain text and Markdown as they are, HTML and PDF parsed."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .text import clean

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table td th tr ul".split()
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


class Unextractable(Exception):
    """A file's content cannot be turned into text (the reason is the message)."""


@dataclass(frozen=True)
class Extracted:
    """Text of a file, its own title if the format has one, and where each page starts."""

    text: str
    title: str | None = None
    page_starts: tuple[int, ...] = ()


def extract(suffix: str, data: bytes) -> Extracted:
    """The text of a file's bytes, by file suffix."""
    if suffix == ".pdf":
        return _pdf(data)
    text = _utf8(data)
    if suffix in (".html", ".htm"):
        return _html(text)
    return Extracted(text)


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unextractable(f"not UTF-8 text (byte {exc.start})") from None


def _html(markup: str) -> Extracted:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    text = _BLANK_LINES.sub("\n\n", "".join(parser.parts)).strip()
    return Extracted(text, parser.title or parser.h1 or None)


class _TextParser(HTMLParser):
    """Collects visible text; block elements become line breaks, scripts and styles vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._h1_done = False  # only the first <h1> can be the title
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self._h1_done |= tag == "h1" and bool(self.h1)
        if tag in self._open:
            while self._open.pop() != tag:
                pass
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        text = _SPACES.sub(" ", data)
        if "title" in self._open:
            self.title = (self.title + text).strip()
        elif not _SKIPPED_TAGS.intersection(self._open):
            if "h1" in self._open and not self._h1_done:
                self.h1 = (self.h1 + text).strip()
            self.parts.append(text)


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        # Cleaned here so that the page offsets stay true for the document's text.
        pages = [clean(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise Unextractable(f"unreadable PDF ({exc})") from None
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2  # the "\n\n" that joins pages
    return Extracted("\n\n".join(parts), title or None, tuple(starts))
