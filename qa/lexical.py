"""BM25 over the lexical terms of `text.terms` (character bigrams for CJK, words otherwise).

The index stores term counts, not scores (`TermCounts`, saved as `lexical.npz` without pickle):
idf and length normalisation are derived at load, so k1 and b can change without a rebuild.
Hand-written rather than bm25s: its scores are the same (tests compare them), it was faster to
build here, and its index is a folder of files outside the generation's manifest and hashes.
"""

from __future__ import annotations

import bisect
import functools
import io
import math
import zipfile
from array import array
from collections import Counter
from dataclasses import dataclass
from itertools import repeat

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
        # Typed arrays, not lists: a list of ints costs 36 bytes a posting, and a segment of
        # 50,000 chunks has some 12 million postings (a build's peak memory was theirs).
        term_ids, rows, tf = array("i"), array("i"), array("i")
        lengths = np.zeros(len(texts), dtype=np.int32)
        for row, text in enumerate(texts):
            counter = Counter(terms(text))
            lengths[row] = sum(counter.values())
            term_ids.extend([ids.setdefault(term, len(ids)) for term in counter])
            rows.extend(repeat(row, len(counter)))
            tf.extend(counter.values())
        return cls._canonical(
            list(ids),
            np.frombuffer(term_ids, dtype=np.int32),
            np.frombuffer(rows, dtype=np.int32),
            np.frombuffer(tf, dtype=np.int32),
            lengths,
        )

    @classmethod
    def merged(cls, parts: list[tuple[TermCounts, np.ndarray]], texts: int) -> TermCounts:
        """The counts of `texts` texts gathered from parts without recounting them: each part
        comes with the new position of each of its texts (-1: left out). Equal to `from_texts`
        of the new list (both are canonical), at the cost of array operations.

        Example: counts of ["東京", "大阪"] placed [1, -1], counts of ["京都"] placed [0] ->
        the counts of ["京都", "東京"]
        """
        ids: dict[str, int] = {}
        term_ids, rows, tf = [], [], []
        lengths = np.zeros(texts, dtype=np.int32)
        for counts, place in parts:
            place = np.asarray(place, dtype=np.int64)
            kept = place >= 0
            lengths[place[kept]] = counts.lengths[kept]
            mapped = np.array(
                [ids.setdefault(t, len(ids)) for t in counts.vocabulary], dtype=np.int64
            )
            new_rows = place[counts.rows]
            alive = new_rows >= 0
            term_ids.append(mapped[counts._term_of_posting()][alive])
            rows.append(new_rows[alive])
            tf.append(counts.tf[alive])
        empty = [np.empty(0, dtype=np.int64)]
        return cls._canonical(
            list(ids),
            np.concatenate(term_ids + empty),
            np.concatenate(rows + empty),
            np.concatenate(tf + empty),
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
        per_term = np.bincount(term_ids, minlength=len(vocabulary))
        used = np.flatnonzero(per_term)
        names = [vocabulary[i] for i in used.tolist()]
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(vocabulary), dtype=np.int32)
        rank[used[order]] = np.arange(len(order), dtype=np.int32)
        terms_sorted = rank[term_ids]
        if np.all(np.diff(rows) >= 0):  # gathered text by text: a stable sort by term will do
            by_term = np.argsort(terms_sorted, kind="stable")
        else:
            # One int64 key per posting, (term, text), sorts ten times faster than a lexsort.
            key = terms_sorted.astype(np.int64) * max(len(lengths), 1) + rows
            by_term = np.argsort(key, kind="stable")
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(per_term[used[order]], out=indptr[1:])
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
    """Okapi BM25 with Lucene's idf over texts stored in parts (an index's segments), numbered
    across them in order. Texts marked dead count for nothing: no document frequency, no
    length, score 0. The idf-free part of each posting's weight is precomputed, so a query
    is a few adds."""

    def __init__(self, texts: list[str], k1: float = K1, b: float = B) -> None:
        self._fit([TermCounts.from_texts(texts)], None, k1, b)

    @classmethod
    def from_counts(
        cls,
        parts: list[TermCounts],
        alive: np.ndarray | None = None,
        k1: float = K1,
        b: float = B,
    ) -> BM25:
        """BM25 over stored term counts (what a loaded index uses); `alive` marks the live
        texts across the parts (None: all)."""
        bm25 = cls.__new__(cls)
        bm25._fit(parts, alive, k1, b)
        return bm25

    def _fit(self, parts: list[TermCounts], alive: np.ndarray | None, k1: float, b: float) -> None:
        self.parts = parts
        self.offsets = np.cumsum([0, *(len(p.lengths) for p in parts)])
        self.alive = None if alive is None or alive.all() else alive
        self._dead_rows = None if self.alive is None else np.flatnonzero(~self.alive)
        lengths = np.concatenate([np.empty(0, np.float32)] + [p.lengths for p in parts])
        lengths = lengths.astype(np.float32)
        live = lengths if self.alive is None else lengths[self.alive]
        self.size = len(live)
        average = float(live.mean()) if self.size and live.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / average)
        self._weights = []
        # Per part, how many of each term's postings are in dead rows (None: no dead row), so
        # that a live document frequency is a subtraction, not a pass over the postings.
        self._dead_df: list[np.ndarray | None] = []
        for part, offset in zip(parts, self.offsets, strict=False):
            tf = part.tf.astype(np.float32)
            self._weights.append(tf * (k1 + 1) / (tf + norm[offset + part.rows]))
            dead = None if self.alive is None else ~self.alive[offset : offset + len(part.lengths)]
            if dead is None or not dead.any():
                self._dead_df.append(None)
            else:
                in_dead = dead[part.rows]
                self._dead_df.append(
                    np.bincount(
                        np.searchsorted(part.indptr, np.flatnonzero(in_dead), side="right") - 1,
                        minlength=len(part.vocabulary),
                    )
                )
        # A query's terms are looked up twice (share and scores), and common ones by most.
        self._postings = functools.lru_cache(maxsize=65_536)(self._find)

    def _find(self, term: str) -> tuple[list[tuple[int, slice]], int]:
        """Where the term's postings are ((part, span) pairs) and its live document frequency."""
        found, df = [], 0
        for p, part in enumerate(self.parts):
            i = bisect.bisect_left(part.vocabulary, term)  # terms are in code-point order
            if i == len(part.vocabulary) or part.vocabulary[i] != term:
                continue
            span = slice(int(part.indptr[i]), int(part.indptr[i + 1]))
            found.append((p, span))
            dead = self._dead_df[p]
            df += span.stop - span.start - (0 if dead is None else int(dead[i]))
        return found, df

    def idf_of(self, df: int) -> float:
        """Inverse document frequency of a term found in `df` documents."""
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (a term seen nowhere gets the highest)."""
        return self.idf_of(self._postings(term)[1])

    def matchable_share(self, query: str) -> float:
        """The share of the query's BM25 potential this corpus can realise: the idf of the
        query's terms that some text holds over the idf of all of them (a term no text holds
        weighs the most, `idf_of(0)`, and can add to no score).

        Near 0 for an English question over Japanese texts (only stray Latin words and numbers
        match), near 1 for a Japanese one; 0 for a query without terms.
        Example: texts ["東京タワー", "大阪城"], query "東京 tower" -> 0.28, that is
        idf(東京) / (idf(東京) + idf_of(0)) = log 2 / (log 2 + log 6)
        """
        found = total = 0.0
        for term, qtf in Counter(terms(query)).items():
            df = self._postings(term)[1]
            if df:
                total += qtf * self._idf32(df)
                found += qtf * self._idf32(df)
            else:
                total += qtf * self.idf_of(0)
        return found / total if total else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query (0 for dead ones)."""
        out = np.zeros(int(self.offsets[-1]), dtype=np.float64)
        spans: list[list[tuple[slice, np.float32]]] = [[] for _ in self.parts]
        for term, qtf in Counter(terms(query)).items():
            found, df = self._postings(term)
            factor = np.float32(qtf) * np.float32(self._idf32(df))
            for p, span in found:
                spans[p].append((span, factor))
        for p, mine in enumerate(spans):
            if mine:
                # One pass over the part's postings for all the query's terms, the weights
                # scaled into one buffer (not scaled copies, then their concatenation).
                rows = np.concatenate([self.parts[p].rows[span] for span, _ in mine])
                weights = np.empty(len(rows), dtype=np.float32)
                at = 0
                for span, factor in mine:
                    n = span.stop - span.start
                    np.multiply(self._weights[p][span], factor, out=weights[at : at + n])
                    at += n
                start, end = int(self.offsets[p]), int(self.offsets[p + 1])
                out[start:end] = np.bincount(rows, weights, minlength=end - start)
        if self._dead_rows is not None:
            out[self._dead_rows] = 0
        return out

    def _idf32(self, df: int) -> float:
        # Rounded to float32 as the weights are, so scores do not depend on the part count.
        return float(np.float32(self.idf_of(df)))
