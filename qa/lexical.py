"""BM25 over the lexical terms of `text.terms` (character bigrams for CJK, words otherwise).

The index stores term counts, not scores (`TermCounts`, saved as `lexical.npz` without pickle):
idf and length normalisation are derived at load, so k1 and b can change without a rebuild.
Hand-written rather than bm25s: its scores are the same (tests compare them), it was faster to
build here, and its index is a folder of files outside the generation's manifest and hashes.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .text import terms

FORMAT_VERSION = 1
_SEPARATOR = "\n"  # never part of a term: terms are runs of word or CJK characters
# Tuned on JSQuAD v1.3 valid (JGLUE, CC BY-SA 4.0) with the fusion in search.py: R@1 plateaus
# for k1 0.4-0.6 and b 0.3-0.5. Bigrams saturate early: a repeated bigram says little more.
K1 = 0.5
B = 0.4
_ARRAYS = ("version", "vocabulary", "indptr", "rows", "tf", "lengths")


@dataclass(frozen=True, eq=False)  # arrays: compare fields explicitly
class TermCounts:
    """How often each term occurs in each text, as postings grouped by term (CSC layout)."""

    vocabulary: list[str]  # term i's postings are rows[indptr[i]:indptr[i + 1]]
    indptr: np.ndarray  # int64, len(vocabulary) + 1
    rows: np.ndarray  # int32, the text (chunk) each posting belongs to, ascending per term
    tf: np.ndarray  # int32, occurrences of the term in that text
    lengths: np.ndarray  # int32, terms per text

    @classmethod
    def from_texts(cls, texts: list[str]) -> TermCounts:
        """Count the terms of every text.

        Example: ["東京都", "東京"] -> vocabulary ["京都", "東京"], rows [0, 0, 1], tf [1, 1, 1]
        """
        ids: dict[str, int] = {}
        term_ids: list[int] = []
        rows: list[int] = []
        tf: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int32)
        for row, text in enumerate(texts):
            counter = Counter(terms(text))
            lengths[row] = sum(counter.values())
            for term, n in counter.items():
                term_ids.append(ids.setdefault(term, len(ids)))
                rows.append(row)
                tf.append(n)
        return cls._canonical(
            list(ids), np.asarray(term_ids), np.asarray(rows), np.asarray(tf), lengths
        )

    def recombined(self, sources: np.ndarray, fresh: TermCounts) -> TermCounts:
        """The counts of a new list of texts without recounting the old ones: text j is this
        one's text `sources[j]`, or, where `sources[j]` is -1, the next text of `fresh`. Equal
        to `from_texts` of the new list (both are canonical), at the cost of array operations.

        Example: counts of ["東京", "大阪"], sources [1, -1], fresh of ["京都"] -> the counts
        of ["大阪", "京都"]
        """
        sources = np.asarray(sources, dtype=np.int64)
        kept = sources >= 0
        if int((~kept).sum()) != len(fresh.lengths):
            raise ValueError("one fresh text is needed for each -1 in sources")
        new_row = np.full(len(self.lengths), -1, dtype=np.int64)
        new_row[sources[kept]] = np.flatnonzero(kept)
        old_rows = new_row[self.rows]
        alive = old_rows >= 0
        ids = {term: i for i, term in enumerate(self.vocabulary)}
        fresh_ids = np.array(
            [ids.setdefault(t, len(ids)) for t in fresh.vocabulary], dtype=np.int64
        )
        lengths = np.zeros(len(sources), dtype=np.int32)
        lengths[kept] = self.lengths[sources[kept]]
        lengths[~kept] = fresh.lengths
        return TermCounts._canonical(
            list(ids),
            np.concatenate([self._term_of_posting()[alive], fresh_ids[fresh._term_of_posting()]]),
            np.concatenate([old_rows[alive], np.flatnonzero(~kept)[fresh.rows]]),
            np.concatenate([self.tf[alive], fresh.tf]),
            lengths,
        )

    def _term_of_posting(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.vocabulary)), np.diff(self.indptr))

    @classmethod
    def _canonical(
        cls,
        vocabulary: list[str],
        term_ids: np.ndarray,
        rows: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
    ) -> TermCounts:
        """Counts in one canonical form whatever the order they were gathered in: terms in
        code-point order (terms without postings dropped), postings by term, then text."""
        term_ids = term_ids.astype(np.int64)
        used = np.unique(term_ids)
        names = [vocabulary[i] for i in used.tolist()]
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(vocabulary), dtype=np.int64)
        rank[used[order]] = np.arange(len(order))
        terms_sorted = rank[term_ids]
        # One int64 key per posting, (term, text), sorts ten times faster than a lexsort.
        by_term = np.argsort(terms_sorted * max(len(lengths), 1) + rows, kind="stable")
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms_sorted, minlength=len(order)), out=indptr[1:])
        return cls(
            [names[i] for i in order],
            indptr,
            rows.astype(np.int32)[by_term],
            tf.astype(np.int32)[by_term],
            lengths.astype(np.int32),
        )

    def to_bytes(self) -> bytes:
        """The counts as an .npz archive of plain arrays (loadable with allow_pickle=False)."""
        buffer = io.BytesIO()
        vocabulary = _SEPARATOR.join(self.vocabulary).encode()
        np.savez(
            buffer,
            version=np.array([FORMAT_VERSION], dtype=np.int32),
            vocabulary=np.frombuffer(vocabulary, dtype=np.uint8),
            indptr=self.indptr,
            rows=self.rows,
            tf=self.tf,
            lengths=self.lengths,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TermCounts:
        """Read counts written by `to_bytes`; ValueError if they are not consistent."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in _ARRAYS}
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
            raise ValueError(f"lexical stats cannot be read: {exc}") from None
        if arrays["version"].tolist() != [FORMAT_VERSION]:
            raise ValueError(f"lexical stats have format {arrays['version'].tolist()}")
        text = arrays["vocabulary"].tobytes().decode()
        counts = cls(
            text.split(_SEPARATOR) if text else [],
            arrays["indptr"].astype(np.int64),
            arrays["rows"].astype(np.int32),
            arrays["tf"].astype(np.int32),
            arrays["lengths"].astype(np.int32),
        )
        counts.check()
        return counts

    def check(self) -> None:
        """Raise ValueError unless the arrays describe one consistent set of postings."""
        nnz = len(self.rows)
        if (
            len(self.indptr) != len(self.vocabulary) + 1
            or self.indptr[0] != 0
            or self.indptr[-1] != nnz
            or len(self.tf) != nnz
            or np.any(np.diff(self.indptr) < 0)
            or (nnz and (self.rows.min() < 0 or self.rows.max() >= len(self.lengths)))
        ):
            raise ValueError("lexical stats are inconsistent")


class BM25:
    """Okapi BM25 with Lucene's idf; term weights are precomputed so a query is a few adds."""

    def __init__(self, texts: list[str], k1: float = K1, b: float = B) -> None:
        self._fit(TermCounts.from_texts(texts), k1, b)

    @classmethod
    def from_counts(cls, counts: TermCounts, k1: float = K1, b: float = B) -> BM25:
        """BM25 over stored term counts (what a loaded index uses)."""
        bm25 = cls.__new__(cls)
        bm25._fit(counts, k1, b)
        return bm25

    def _fit(self, counts: TermCounts, k1: float, b: float) -> None:
        self.counts = counts
        self.size = len(counts.lengths)
        lengths = counts.lengths.astype(np.float32)
        average = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / average)
        df = np.diff(counts.indptr)
        idf = np.log1p((self.size - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = counts.tf.astype(np.float32)
        self._weights = tf * (k1 + 1) / (tf + norm[counts.rows]) * np.repeat(idf, df)
        self._ids = {term: i for i, term in enumerate(counts.vocabulary)}
        self._idf = idf

    def idf_of(self, df: int) -> float:
        """Inverse document frequency of a term found in `df` documents."""
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (a term seen nowhere gets the highest)."""
        i = self._ids.get(term)
        return self.idf_of(
            0 if i is None else int(self.counts.indptr[i + 1] - self.counts.indptr[i])
        )

    def matchable_share(self, query: str) -> float:
        """The share of the query's BM25 potential this corpus can realise: the idf of the
        query's terms that some text holds over the idf of all of them (a term no text holds
        weighs the most, `idf_of(0)`, and can add to no score).

        Near 0 for an English question over Japanese texts (only stray Latin words and numbers
        match), near 1 for a Japanese one; 0 for a query without terms.
        Example: texts ["東京タワー", "大阪城"], query "東京 tower" -> 0.28, that is
        idf(東京) / (idf(東京) + idf_of(0)) = log 2 / (log 2 + log 6)
        """
        unseen = self.idf_of(0)
        found = total = 0.0
        for term, qtf in Counter(terms(query)).items():
            i = self._ids.get(term)
            if i is None:
                total += qtf * unseen
            else:
                total += qtf * float(self._idf[i])
                found += qtf * float(self._idf[i])
        return found / total if total else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query."""
        out = np.zeros(self.size, dtype=np.float32)
        indptr, rows = self.counts.indptr, self.counts.rows
        for term, qtf in Counter(terms(query)).items():
            i = self._ids.get(term)
            if i is not None:
                # A term's postings name each row once, so a fancy-index add is exact here.
                span = slice(indptr[i], indptr[i + 1])
                out[rows[span]] += qtf * self._weights[span]
        return out
