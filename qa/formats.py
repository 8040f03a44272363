"""Text extraction per file format: plain text and Markdown as they are, HTML and PDF parsed."""

from __future__ import annotations

import bisect
import codecs
import io
import re
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .text import clean, ends_sentence, match_key

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")

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
    if suffix in (".html", ".htm"):
        return _html(_decode_html(data))
    return Extracted(_utf8(data))


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unextractable(f"not UTF-8 text (byte {exc.start})") from None


# --- HTML --------------------------------------------------------------------------------------
# The parser is selectolax's lexbor backend, chosen over lxml.html and BeautifulSoup+html5lib.
# Speed, on a 2 MB single-line page of 12,000 paragraphs, parse and text, on 2 cores shared with
# other work: selectolax 70-120 ms, lxml 160-320 ms, BeautifulSoup+html5lib 5.4-9.9 s (all of
# `extract` here: 0.3-0.45 s, a third of it the nesting estimate below).
# Robustness: lexbor and html5lib build the tree that the HTML standard (so a browser) builds:
# `</head>` omitted, text after `</body>` or `</html>`, unclosed p/li/td, all kept. lxml
# (libxml2 2.14) silently drops text after `</body>` or `</html>` and text nested 255 deep.
# The standard's tree building is quadratic in nesting depth (20,000 unclosed <div>: lexbor
# 1.2 s, 20,000 <ul><li>: 8 s, html5lib slower; 2 MB of them: many minutes): `_MAX_DEPTH`.

# Elements whose content a browser does not show as the page's text (the title is read first).
_INVISIBLE = (
    "head, title, script, style, noscript, template, svg, iframe, noembed, noframes, [hidden]"
)
_BLOCKS = ", ".join(
    "address article aside blockquote caption dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup li main nav ol p pre section summary "
    "table td th tr ul".split()
)
_LINE_BREAKS = "br, hr"  # one line break each: they enclose nothing
_BREAK = "\x00"

# Encodings: a BOM decides (as in browsers); otherwise bytes that are valid UTF-8 are UTF-8
# whatever the page declares, because legacy Japanese or Latin text is practically never valid
# UTF-8, while UTF-8 bytes declared Shift_JIS often "decode" as cp932 into mojibake.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""",
    re.IGNORECASE,
)
_PRESCAN_BYTES = 4096  # browsers look at 1,024; a little more helps long <head>s and costs nothing
# Labels browsers know and Python lacks, and codecs browsers widen (WHATWG Encoding Standard);
# a <meta> cannot really declare UTF-16, so the standard reads such pages as UTF-8.
_BROWSER_CODECS = {
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "x-euc-jp": "euc_jp",
    "shift_jis": "cp932",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}

# Tags counted by the nesting estimate: not void, and not closed implicitly by their siblings.
_NOT_NESTING = frozenset(
    "area base br col embed hr img input link meta param source track wbr "
    "html head body p li dt dd option optgroup rb rp rt rtc "
    "caption colgroup thead tbody tfoot tr td th".split()
)
# A name must end at a space, "/" or ">", so that scripts' comparisons (`i<n;`) are not tags.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?=[\s/>])")
_MAX_DEPTH = 5000  # real pages nest a few dozen deep; browsers flatten beyond 512


def _decode_html(data: bytes) -> str:
    """The page's text: by its BOM, as UTF-8, or in its declared encoding, else refused."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode(data, codec, f"not {codec.removesuffix('-sig').upper()} despite its BOM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        not_utf8 = f"not UTF-8 (byte {exc.start})"
    label = _declared_charset(data)
    codec = _codec(label) if label else None
    if label is None:
        raise Unextractable(f"{not_utf8} and no charset declared")
    if codec is None:
        raise Unextractable(f"{not_utf8} and its declared charset {label!r} is unknown")
    if codec == "utf-8":
        raise Unextractable(f"{not_utf8} though declared {label}")
    return _decode(data, codec, f"{not_utf8} nor {label} as declared")


def _decode(data: bytes, codec: str, failure: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Unextractable(f"{failure} (byte {exc.start})") from None
    except UnicodeError:  # some codecs (idna, punycode) fail without saying where
        raise Unextractable(failure) from None


def _declared_charset(data: bytes) -> str | None:
    """The charset label a <meta> (charset or http-equiv) or an XML declaration names."""
    match = _DECLARED.search(data[:_PRESCAN_BYTES])
    return (match[1] or match[2]).decode("ascii").lower() if match else None


def _codec(label: str) -> str | None:
    """The Python codec that decodes a charset label as browsers do, if Python has one."""
    try:
        name = _BROWSER_CODECS.get(label) or codecs.lookup(label).name
        "".encode(name)  # refuses codecs that are not text encodings (base64, rot13...)
    except (LookupError, UnicodeError):
        return None
    return _BROWSER_CODECS.get(name, name)


def _html(markup: str) -> Extracted:
    """A page's visible text, block elements on lines of their own, and its title."""
    depth = _nesting_estimate(markup)
    if depth > _MAX_DEPTH:
        raise Unextractable(f"HTML nested too deeply ({depth:,} levels; at most {_MAX_DEPTH:,})")
    # NUL marks where lines break: lexbor's text() joins text nodes in C, far faster than a walk
    # in Python, and the marks survive the whitespace collapsing that newlines would not.
    tree = LexborHTMLParser(markup.replace(_BREAK, ""))
    title = _text_of(tree.css_first("title:not(svg title)"))  # an <svg>'s title names a drawing
    for node in tree.css(_INVISIBLE):
        node.decompose()
    for node in tree.css(_LINE_BREAKS):
        node.insert_before(_BREAK)
    for node in tree.css(_BLOCKS):
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    text = _SPACES.sub(" ", tree.root.text() if tree.root else "").replace(_BREAK, "\n")
    title = title or _text_of(tree.css_first("h1"))
    return Extracted(_BLANK_LINES.sub("\n\n", text).strip(), title or None)


def _text_of(node: LexborNode | None) -> str:
    return _SPACES.sub(" ", node.text()).strip() if node is not None else ""


def _nesting_estimate(markup: str) -> int:
    """How deep the page's elements nest, from its tags alone: fast, and rarely an underestimate
    (an end tag closes one open element of its name; the parser's stricter rules close more)."""
    open_names: Counter[str] = Counter()
    depth = deepest = 0
    for closing, name in _TAG.findall(markup):
        name = name.lower()
        if name in _NOT_NESTING:
            continue
        if not closing:
            open_names[name] += 1
            depth += 1
            deepest = max(deepest, depth)
        elif open_names[name]:
            open_names[name] -= 1
            depth -= 1
    return deepest


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
    text, starts = joined(pages)
    return Extracted(text, title or None, starts)


def joined(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages' text as one, without the page numbers, headers and footers printed around
    it (`_without_page_furniture`), each word broken at a line's end whole again (`_mended`),
    and where each page starts in it.

    A page break is a line break like any other: where a page ends inside a sentence, the
    next page goes on after a single line break (`text.sentence_spans` reads it as a soft
    wrap); else a blank line comes between them.
    Example: ["The CEO is\n1", "Alice.\n2"] -> ("The CEO is\nAlice.", (0, 11))
    """
    text, starts, last = "", [], ""  # last: the latest page with text, all that is checked
    for i, page in enumerate(_without_page_furniture(pages)):
        if i:
            text += "\n" if last and not ends_sentence(last) else "\n\n"
        starts.append(len(text))
        text += page
        last = page or last
    return _mended(text, starts)


# A word a typesetter broke at a line's end: letters (a compound's parts and hyphens among them),
# a hyphen (or a soft hyphen) ending the line, and the word going on at the next line's start.
_BROKEN = re.compile(
    r"(?<![\w-])([^\W\d_]+(?:-[^\W\d_]+)*)([-\u00ad\u2010])[ \t]*\n[ \t]*([^\W\d_]+)"
)
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _mended(text: str, starts: list[int]) -> tuple[str, tuple[int, ...]]:
    """The text with each word broken over a line's end whole again, and the page starts moved
    with it. The hyphen goes ("virtu-\nalization" -> "virtualization") unless the word goes on
    in a capital ("Anglo-\nSaxon" -> "Anglo-Saxon") or the text elsewhere writes it with the
    hyphen more often than without ("well-\nknown" -> "well-known" where "well-known" is
    written once more); a soft hyphen always goes.

    Why: to the lexical index and the reader a broken word is two words, and a quote shows it
    broken. Over English articles filled as a typesetter fills them, over two pages, held-out
    answers contain the gold 0.788 -> 0.848 (Japanese questions over them 0.697 -> 0.773), and
    1 of 85 broken words comes out wrong (benchmarks/README.md, "Words broken at a line's end").
    """
    counts = Counter(_WORDS.findall(match_key(text)))
    pieces, cuts, removed, at = [], [], [], 0  # cuts: where text was removed; removed: how much
    for m in _BROKEN.finditer(text):
        head, hyphen, tail = m.groups()
        # Hyphenation never breaks a word before a capital: "Anglo-\nSaxon" is a compound.
        keep = hyphen != "\u00ad" and (
            not tail[0].islower()
            or counts[match_key(f"{head}-{tail}")] > counts[match_key(head + tail)]
        )
        pieces += [text[at : m.start(2)], hyphen if keep else ""]
        at = m.start(3)
        cuts.append(at)
        removed.append(at - m.start(2) - keep)
    pieces.append(text[at:])
    total = list(accumulate(removed))
    return "".join(pieces), tuple(
        s - (total[i - 1] if (i := bisect.bisect_right(cuts, s)) else 0) for s in starts
    )


def _without_page_furniture(pages: list[str]) -> list[str]:
    """Each page without its number and its running header and footer, in whichever order
    they stack at its top and bottom ("3" above "Annual Report", or below it)."""
    split = [page.split("\n") for page in pages]
    for furniture in (_page_numbers, _running_lines, _page_numbers):
        dropped = furniture(split)
        split = [
            [line for at, line in enumerate(lines) if (i, at) not in dropped]
            for i, lines in enumerate(split)
        ]
    return ["\n".join(lines).strip() for lines in split]


def _edges(lines: list[str]) -> tuple[int, ...]:
    """Where a page's first and last lines with text are (the same line on a page of one)."""
    full = [at for at, line in enumerate(lines) if line.strip()]
    return (full[0], full[-1]) if full else ()


# A line that holds a number alone, as page numbers are printed: "3", "- 3 -", "Page 3 of 10",
# "3 / 10", "3ページ" (matched on the NFKC key, so full-width digits count too).
_PAGE_NUMBER = re.compile(
    r"[-–—\s]*(?:page|p\.)?\s*(\d{1,4})\s*(?:(?:/|of)\s*\d{1,4})?\s*(?:ページ|頁)?[-–—\s]*"
)


def _page_numbers(split: list[list[str]]) -> set[tuple[int, int]]:
    """The (page, line) of each page's first or last line that is its page number: a number
    alone on the line that counts up with the pages, as the same line of at least one other
    page does (a number of the text, such as a year on a line of its own, stays)."""
    found: list[tuple[int, int, int]] = []  # page, line, its number less the page's index
    for i, lines in enumerate(split):
        for at in dict.fromkeys(_edges(lines)):
            number = _PAGE_NUMBER.fullmatch(match_key(lines[at]))
            if number:
                found.append((i, at, int(number.group(1)) - i))
    counted = Counter(shift for _, _, shift in found)
    return {(i, at) for i, at, shift in found if counted[shift] >= 2}


# Over hard-wrapped articles on pages with a running header, held out, contains (kept ->
# dropped): JSQuAD 0.860 -> 0.893, English over it 0.430 -> 0.580 (benchmarks/README.md).
_RUNNING_CHARS = 100  # headers and footers are a title, a chapter or a notice, not a paragraph
_DIGITS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")


def _running_lines(split: list[list[str]]) -> set[tuple[int, int]]:
    """The (page, line) of each running header and footer: a short line with letters in it that
    tops (or ends) at least half the pages with text, and two or more, the same but for its
    numbers ("Annual Report 2024 | 3" on page 3, "| 4" on page 4). A heading that opens only
    a few of the pages stays."""
    found: dict[tuple[int, str], list[tuple[int, int]]] = {}  # (top or bottom, key) -> lines
    for i, lines in enumerate(split):
        for edge, at in enumerate(_edges(lines)):
            key = " ".join(_DIGITS.sub("#", match_key(lines[at])).split())
            if len(key) <= _RUNNING_CHARS and _LETTER.search(key):
                found.setdefault((edge, key), []).append((i, at))
    pages = sum(1 for lines in split if _edges(lines))
    return {line for lines in found.values() if len(lines) >= max(2, pages / 2) for line in lines}
