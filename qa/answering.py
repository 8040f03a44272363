"""Extractive answers: the shortest quoted span that answers, cited; or an honest abstention."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embedding import Embedder
from .generation import Generator, grounded_span
from .japanese import has_cjk
from .lexical import BM25
from .questions import answer_slot, asks_name, asks_who, content_terms, implied_terms
from .text import sentence_spans, terms
from .types import Answer, Citation, Document, Hit

ABSTAIN_TEXT = "The documents do not contain the answer. / 資料には答えが見つかりませんでした。"
CROSS_LINGUAL_NOTE = "(quoted in Japanese)"

_PASSAGES = 3  # sentences are drawn from the best few passages only
# What a span that fills the question word's slot ("誰から" ~ "開発者から") adds to its rank. On
# the 62 JSQuAD valid questions that ask 誰から, いつまで and the like, answers contained the gold
# answer in 0.806 of cases without the rule, 0.855 at 0.05, and 0.871 from 0.1 up to 0.3.
_SLOT_BONUS = 0.1
# A support must rank within this share of the lead's sentence: on 1,000 JSQuAD questions 0.7
# contained the answer in 0.813 of answers against 0.802 at 0.8 (median 71 characters against
# 68; dev median unchanged), and going lower buys little (0.816 at 0.6).
_SUPPORT_RANK = 0.7
_REACH = 300  # characters looked at around a passage to complete its first and last sentences
# Clause ends; a closing quote ends one unless a quotative と ties it to what follows
# ("「…」(…)と題された講演", "「…」と述べた").
_CLAUSE_END = re.compile(r"[、，,]\s*|」(?!\s*(?:[(（][^)）]*[)）])?\s*と)\s*|――")
# A person named with an honorific; two characters at least, since 同氏 ("the said person")
# names no one.
_NAMED = re.compile(r"([\u30a0-\u30ff\u4e00-\u9fff]{2,})(?:氏|さん)")
_NAMING = re.compile(r"と(いう|言う|いい|言い|呼|称|訳)")
_BRACKETS = ("「」", "『』", "()", "（）", "[]", "【】")
# Key-term shares are rounded to this many decimals. In a follow-up the question's own terms
# weigh as much as the borrowed ones together (_key_terms), so a passage holding just its own
# terms holds half the weight; computed, that is 0.5 give or take the last bit of the scaled
# weights (plain sums in hash order gave 0.49999999999999983 to 0.5000000000000001 for the
# seed's "講演したのは誰ですか？" after a question on Xen). Rounded, it is 0.5 and meets the
# default threshold of 0.5, as intended.
_SHARE_DECIMALS = 9


@dataclass(frozen=True)
class Retrieved:
    """What retrieval hands to answering for one question."""

    hits: list[Hit]
    documents: Mapping[str, Document]
    lexical: BM25
    query_vector: np.ndarray


@dataclass(frozen=True)
class _Asked:
    """One question as composing sees it, and where its answer is looked for."""

    found: Retrieved
    embedder: Embedder
    wanted: Mapping[str, float]  # key terms, idf-weighted
    terms: set[str]  # content terms of the searched query
    slot: re.Pattern[str] | None  # how a phrase answering the question word looks, if known


@dataclass(frozen=True)
class _Span:
    hit: Hit
    start: int  # in the document
    end: int
    coverage: float  # idf-weighted share of the question's content terms found in it
    dense: float  # cosine with the question
    fills_slot: bool  # holds a phrase of the form the question word asks for

    @property
    def rank(self) -> float:
        return (
            self.coverage + 2.0 * self.dense + 0.05 * self.hit.score + _SLOT_BONUS * self.fills_slot
        )


def compose(
    question: str, searched: str, found: Retrieved, embedder: Embedder, settings: Settings
) -> Answer:
    """Answer from the retrieved passages: lead with the best short span, maybe one more."""
    passages = found.hits[:_PASSAGES]
    wanted = _key_terms(question, searched, found.lexical)
    reason = _abstention_reason(question, passages, wanted, settings)
    if reason:
        return Answer(question, ABSTAIN_TEXT, True, [], searched_query=searched, reason=reason)
    asked = _Asked(found, embedder, wanted, content_terms(searched), answer_slot(question))
    sentences = sorted(_sentences(passages, asked), key=lambda s: -s.rank)
    naming = asks_name(question)
    # A sentence that only restates the question (a headline, say) cannot be its answer,
    # unless the question asks what something is called and the next sentence names it.
    best = next(
        (
            s
            for s in sentences
            if not _restates(_quote(s, found), asked.terms) or (naming and _named_next(s, found))
        ),
        sentences[0],
    )
    limit = settings.lead_max_chars
    lead = _shorten(best, asked, limit)
    extra = None
    if asks_who(question):
        lead = _through_name(lead, best, asked)
        extra = _introduction(lead, asked, limit)
        # Asked who a named person is ("ラムジ氏は誰ですか？"), the introduction is the answer.
        if extra and (person := _person(lead, found)) and person in question:
            lead, extra = extra, lead
    elif naming and (named := _named_next(lead, found)):
        extra = _scored([(lead.hit, *named)], asked)[0]
    if extra is None and (support := _support(lead, best, sentences[1:], asked)):
        extra = _shorten(support, asked, limit)
    chosen = [lead, extra] if extra else [lead]
    citations = [_cite(n, s, found.documents[s.hit.doc_id]) for n, s in enumerate(chosen, 1)]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    if not has_cjk(question) and any(has_cjk(c.quote) for c in citations):
        text = f"{text} {CROSS_LINGUAL_NOTE}"
    return Answer(question, text, False, citations, searched_query=searched)


def _restates(sentence: str, asked: set[str]) -> bool:
    """Whether the sentence brings no word the question lacks: no new Latin-script word and
    fewer than two new Japanese characters among its content terms.

    Example: ("「仮想化、認めない」――米マイクロソフト", {"マイ", …, "フト", "仮想", "想化"}) -> True
    """
    new = _units(content_terms(sentence)) - _units(asked)
    return sum(2 if len(unit) > 1 else 1 for unit in new) < 2


def _units(terms: set[str]) -> set[str]:
    """Characters of Japanese terms and whole Latin-script words."""
    return {u for t in terms for u in (t if has_cjk(t) else [t])}


def _key_terms(question: str, searched: str, lexical: BM25) -> dict[str, float]:
    """The searched query's content terms, idf-weighted; in a follow-up, the question's own
    terms weigh as much as all those borrowed from earlier turns together, since they say
    what is asked now (for "そこで特に重要なのは？", the sentence with 重要).
    """
    # In the order the query says them, not a set's: a set's order follows the hash seed, and
    # so would ties between equal weights (which missing terms a reason names).
    key = content_terms(searched)
    idf = {t: lexical.idf(t) for t in dict.fromkeys(terms(searched)) if t in key}
    own = content_terms(question) & idf.keys()
    borrowed = math.fsum(w for t, w in idf.items() if t not in own)
    if not own or not borrowed:
        return idf
    scale = borrowed / math.fsum(idf[t] for t in own)
    return {t: w * scale if t in own else w for t, w in idf.items()}


def refine(extractive: Answer, generator: Generator, max_chars: int) -> Answer:
    """The generator's short answer if it is grounded in a cited quote, else the extractive one.

    Only the cited quotes are shown to the model and searched for its output, so an injected
    instruction elsewhere in the passages cannot become the answer.
    """
    if extractive.abstained:
        return extractive
    quotes = [c.quote for c in extractive.citations]
    proposed = generator.extract(extractive.searched_query or extractive.question, quotes)
    grounded = grounded_span(proposed, quotes, max_chars) if proposed else None
    # A span that only repeats words of the question does not answer it.
    if grounded is None or content_terms(proposed or "") <= content_terms(extractive.question):
        return extractive
    i, start, end = grounded
    cited = extractive.citations[i]
    span = dataclasses.replace(
        cited, n=1, start=cited.start + start, end=cited.start + end, quote=cited.quote[start:end]
    )
    note = f" {CROSS_LINGUAL_NOTE}" if extractive.text.endswith(CROSS_LINGUAL_NOTE) else ""
    return dataclasses.replace(
        extractive, text=f"{span.quote} [1]{note}", citations=[span], generator=generator.name
    )


def _support(lead: _Span, best: _Span, others: list[_Span], asked: _Asked) -> _Span | None:
    """The best other sentence nearly as good as the lead's that holds key terms the lead lacks.

    A support that adds nothing the question asks about only makes the answer longer.
    """
    lead_text = _quote(lead, asked.found)
    for other in others:
        if other.rank < _SUPPORT_RANK * best.rank:
            return None
        if not _overlap(other, best) and (
            _coverage(lead_text + _quote(other, asked.found), asked.wanted) > lead.coverage
        ):
            return other
    return None


def _through_name(lead: _Span, sentence: _Span, asked: _Asked) -> _Span:
    """The lead, stretched to the clause of its sentence that names a person if it names none:
    the answer to "who" must hold the name ("…のディレクター、" → "…、サム・ラムジ氏は…").
    """
    text = asked.found.documents[lead.hit.doc_id].text
    named = _NAMED.search(text, sentence.start, sentence.end)
    if named is None or _NAMED.search(text, lead.start, lead.end):
        return lead
    clause = _CLAUSE_END.search(text, named.end(), sentence.end)
    start = min(lead.start, named.start())
    end = max(lead.end, clause.end() if clause else sentence.end)
    return _scored([(lead.hit, start, end)], asked)[0]


def _introduction(lead: _Span, asked: _Asked, limit: int) -> _Span | None:
    """Where the document first names the person the lead calls "X氏", if that is elsewhere:
    a reader asking who wants the full name and role ("…のディレクター、サム・ラムジ氏").
    That sentence, or in a long one the clause naming them and its neighbours.
    """
    person = _person(lead, asked.found)
    if not person:
        return None
    text = asked.found.documents[lead.hit.doc_id].text
    first = text.find(person)
    if first >= lead.start:
        return None  # the lead is where they are first named
    start, end = _local_sentences(text, first, first + 1)[0]
    if end - start > limit:
        # The role comes before the name ("ディレクター、サム・ラムジ氏") or after ("X氏は教授で").
        cuts = _clause_cuts(text, start, end)
        before = [c for c in cuts if c <= first]
        after = [c for c in cuts if c > first]
        start, end = before[max(0, len(before) - 2)], after[min(1, len(after) - 1)]
    return _scored([(lead.hit, start, end)], asked)[0]


def _person(span: _Span, found: Retrieved) -> str | None:
    """The first person the span names with an honorific, without it ("ラムジ氏" -> "ラムジ")."""
    named = _NAMED.search(_quote(span, found))
    return named.group(1) if named else None


def _named_next(span: _Span, found: Retrieved) -> tuple[int, int] | None:
    """The sentence after the span's when the span gives no name and that sentence does.

    Documents describe a thing, then name it: "梅雨の期間中ほとんど雨が降らない場合がある。
    このような梅雨のことを空梅雨という。"
    """
    text = found.documents[span.hit.doc_id].text
    if _NAMING.search(text, span.start, span.end):
        return None
    end = _local_sentences(text, span.start, span.end)[-1][1]
    after = [s for s in _local_sentences(text, end, min(len(text), end + _REACH)) if s[0] >= end]
    return after[0] if after and _NAMING.search(text, *after[0]) else None


def _quote(span: _Span, found: Retrieved) -> str:
    return found.documents[span.hit.doc_id].text[span.start : span.end]


def _abstention_reason(
    question: str, passages: list[Hit], wanted: Mapping[str, float], settings: Settings
) -> str:
    """Why the passages do not answer, or "" when one of them vouches for the question.

    Key-term coverage vouches for any question; dense similarity alone needs more when the
    question and passage share a language (see Settings.min_dense_same_language).
    """
    if not passages:
        return "nothing was retrieved"
    for hit in passages:
        same_language = has_cjk(question) == has_cjk(hit.text)
        needed = (
            settings.min_dense_same_language if same_language else settings.min_dense_cross_lingual
        )
        if _coverage(hit.text, wanted) >= settings.min_term_coverage or hit.dense >= needed:
            return ""
    present = set().union(*(set(terms(h.text)) | implied_terms(h.text, wanted) for h in passages))
    missing = sorted((t for t in wanted if t not in present), key=lambda t: -wanted[t])[:3]
    lacking = f"lack {', '.join(f'“{t}”' for t in missing)} and " if missing else ""
    coverage = max(_coverage(h.text, wanted) for h in passages)
    dense = max(h.dense for h in passages)
    return (
        f"the best passages {lacking}hold {coverage:.0%} of the question's key terms "
        f"(needed {settings.min_term_coverage:.0%}); their similarity {dense:.2f} "
        "is too low to vouch for them"
    )


def _sentences(passages: list[Hit], asked: _Asked) -> list[_Span]:
    """Every sentence of the passages, scored against the question (overlaps counted once)."""
    spans: dict[tuple[int, int], Hit] = {}
    for hit in passages:
        # Whole sentences of the document, not of the chunk: a chunk may start mid-sentence.
        for span in _local_sentences(asked.found.documents[hit.doc_id].text, hit.start, hit.end):
            spans.setdefault(span, hit)
    return _scored([(hit, a, b) for (a, b), hit in spans.items()], asked)


def _local_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The document's sentences that overlap text[start:end], found without splitting it all."""
    lo, hi = max(0, start - _REACH), min(len(text), end + _REACH)
    return [
        (lo + a, lo + b) for a, b in sentence_spans(text[lo:hi]) if lo + a < end and start < lo + b
    ]


def _shorten(sentence: _Span, asked: _Asked, limit: int) -> _Span:
    """A long sentence gives way to its best run of one to three clauses that does not just
    restate the question."""
    if sentence.end - sentence.start <= limit:
        return sentence
    found = asked.found
    text = found.documents[sentence.hit.doc_id].text
    cuts = _clause_cuts(text, sentence.start, sentence.end)
    # A window that cuts a bracket pair in two is a fragment no reader can follow, so it takes
    # in the whole pair: "（なお、…であり、1952年10月25日まで法的効力を有していた）".
    windows = {
        (sentence.hit, *_whole_pairs(text, cuts[i], cuts[j], sentence.start, sentence.end))
        for i in range(len(cuts) - 1)
        for j in range(i + 1, min(i + 3, len(cuts)))
    }
    # A window holding the phrase the question word asks for ("誰から" ~ "開発者から") comes
    # first, whatever else matches.
    ranked = sorted(
        _scored(sorted(windows, key=lambda w: w[1:]), asked),
        key=lambda s: (not s.fills_slot, -s.coverage - s.dense),
    )
    # The clause that matches the question is not always the one that answers it: in
    # "WindowsとLinuxという…は今後も、x86ベースの…主流であり続ける" the answer comes first.
    # A pair the sentence does not close cannot be taken in whole; such windows are passed over.
    best = next(
        (
            s
            for s in ranked
            if _balanced(_quote(s, found)) and not _restates(_quote(s, found), asked.terms)
        ),
        ranked[0],
    )
    # More often it follows ("…フィードバックは、.NETとJavaの相互運用性を望んでいる"), so take
    # one clause more, unless the window already holds the asked-for phrase or the clause
    # would open a bracket it does not close.
    end = next((c for c in cuts if c > best.end + 1), sentence.end)
    if best.fills_slot or not _balanced(text[best.start : end]):
        end = best.end
    return _scored([(sentence.hit, best.start, end)], asked)[0]


def _clause_cuts(text: str, start: int, end: int) -> list[int]:
    """Offsets where the clauses of text[start:end] begin, and `end`."""
    inner = {m.end() for m in _CLAUSE_END.finditer(text, start, end)}
    return sorted({start, end} | {c for c in inner if c < end})


def _whole_pairs(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """text[start:end] widened, within text[lo:hi], until it cuts no bracket pair in two."""
    while cut := next(
        ((a, b) for a, b in _BRACKETS if text.count(a, start, end) != text.count(b, start, end)),
        None,
    ):
        a, b = cut
        opened = text.count(a, start, end) > text.count(b, start, end)
        found = text.find(b, end, hi) if opened else text.rfind(a, lo, start)
        if found < 0:
            break
        start, end = (start, found + 1) if opened else (found, end)
    return start, end


def _balanced(quote: str) -> bool:
    """Whether every bracket the quote opens it also closes, and the other way round."""
    return all(quote.count(a) == quote.count(b) for a, b in _BRACKETS)


def _scored(spans: list[tuple[Hit, int, int]], asked: _Asked) -> list[_Span]:
    documents = asked.found.documents
    trimmed = [(hit, *_trim(documents[hit.doc_id].text, a, b)) for hit, a, b in spans]
    quotes = [documents[hit.doc_id].text[a:b] for hit, a, b in trimmed]
    dense = asked.embedder.encode_sentences(quotes) @ asked.found.query_vector if quotes else []
    return [
        _Span(
            hit,
            a,
            b,
            _coverage(quote, asked.wanted),
            float(score),
            bool(asked.slot and asked.slot.search(quote)),
        )
        for (hit, a, b), quote, score in zip(trimmed, quotes, dense, strict=True)
    ]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding whitespace and a trailing clause comma or dash from a span."""
    while end > start and (text[end - 1].isspace() or text[end - 1] in "、，,―"):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _overlap(a: _Span, b: _Span) -> bool:
    """Whether two spans share any character of one document. Not evaluation's `overlaps` (half
    of the shorter span): a support must not repeat even a little of the lead."""
    return a.hit.doc_id == b.hit.doc_id and a.start < b.end and b.start < a.end


def _coverage(text: str, wanted: Mapping[str, float]) -> float:
    """idf-weighted share of the wanted terms that occur in the text.

    Summed with math.fsum, which rounds the exact sum once: a plain sum depends on the order of
    the terms, and an order that followed the hash seed put shares of exactly one half either
    side of the 50% threshold in different processes.
    """
    total = math.fsum(wanted.values())
    if total == 0:
        return 0.0
    present = set(terms(text)) | implied_terms(text, wanted)
    share = math.fsum(w for t, w in wanted.items() if t in present) / total
    return round(share, _SHARE_DECIMALS)


def _cite(n: int, s: _Span, doc: Document) -> Citation:
    quote = doc.text[s.start : s.end]
    page = doc.page_of(s.start)
    return Citation(n, doc.doc_id, doc.title, s.start, s.end, quote, s.hit.score, s.hit, page)
