"""BM25 over bigrams: scores against references, Japanese/English terms, persistence."""

import hashlib
import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from qa import build_index
from qa.errors import CorruptIndex
from qa.index import MANIFEST, load_index
from qa.lexical import BM25, TermCounts
from qa.search import fuse
from qa.segments import FOLDER, LEXICAL
from qa.stores import top_k
from qa.stores.embedded import EmbeddedStore
from qa.text import terms

from .optional import TEST_EXTRA, require_module

CORPUS = [
    "梅雨は東アジアにみられる雨季の一種である。",
    "東京タワーは東京都港区にある電波塔です。東京の観光名所。",
    "Linux上でWindows VistaとWindows XPを仮想化する。",
    "The GPL (GNU General Public License) is a free software licence.",
    "ＸＥＮはＬｉｎｕｘの仮想化プラットフォーム、Xen Hypervisor。",
    "富士山",
]
QUERIES = [
    "東京にある塔は？",
    "windows xp",
    "ｇｐｌ license",
    "仮想化",
    "xen",
    "富士",
    "存在しない語",
]


def reference_scores(texts: list[str], query: str, k1: float, b: float) -> list[float]:
    """Okapi BM25 with Lucene's idf, term by term, as textbooks write it."""
    docs = [Counter(terms(t)) for t in texts]
    average = sum(sum(d.values()) for d in docs) / len(docs)
    out = []
    for d in docs:
        length = sum(d.values())
        score = 0.0
        for term in terms(query):  # a repeated query term counts again
            df = sum(1 for other in docs if term in other)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = d[term]
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
        out.append(score)
    return out


@pytest.mark.parametrize(("k1", "b"), [(0.5, 0.4), (1.2, 0.75), (2.0, 0.0), (0.9, 1.0)])
def test_scores_match_the_textbook_formula(k1: float, b: float) -> None:
    bm25 = BM25(CORPUS, k1, b)
    for query in QUERIES:
        expected = reference_scores(CORPUS, query, k1, b)
        assert np.allclose(bm25.scores(query), expected, rtol=1e-5, atol=1e-6), query


def test_scores_match_bm25s_up_to_its_constant_factor() -> None:
    bm25s = require_module("bm25s", TEST_EXTRA)
    k1, b = 0.5, 0.4
    reference = bm25s.BM25(k1=k1, b=b, method="lucene")
    reference.index([terms(t) for t in CORPUS], show_progress=False)
    ours = BM25(CORPUS, k1, b)
    for query in QUERIES:
        query_terms = [t for t in terms(query) if t in reference.vocab_dict]
        expected = reference.get_scores(query_terms) if query_terms else np.zeros(len(CORPUS))
        # bm25s's "lucene" term weight leaves out the constant (k1 + 1) factor.
        assert np.allclose(ours.scores(query) / (k1 + 1), expected, rtol=1e-5, atol=1e-6)


text_pieces = st.sampled_from(
    [
        "東京",
        "大阪",
        "梅雨",
        "仮想化",
        "Linux",
        "ＬＩＮＵＸ",
        "windows",
        "GPL",
        "の",
        "は",
        "。",
        " ",
        "2007",
    ]
)
texts = st.lists(text_pieces, min_size=0, max_size=12).map("".join)


@hypothesis_settings(max_examples=60, deadline=None)
@given(corpus=st.lists(texts, min_size=1, max_size=6), query=texts)
def test_scores_match_the_formula_on_generated_text(corpus: list[str], query: str) -> None:
    expected = reference_scores(corpus, query, 0.5, 0.4) if any(map(terms, corpus)) else None
    scores = BM25(corpus, 0.5, 0.4).scores(query)
    assert scores.shape == (len(corpus),)
    if expected is not None:
        assert np.allclose(scores, expected, rtol=1e-5, atol=1e-6)
    else:
        assert not scores.any()  # nothing to match in a corpus without terms


@hypothesis_settings(max_examples=60, deadline=None)
@given(corpus=st.lists(texts, min_size=0, max_size=6), query=texts)
def test_counts_survive_a_round_trip_through_bytes(corpus: list[str], query: str) -> None:
    counts = TermCounts.from_texts(corpus)
    loaded = TermCounts.from_bytes(counts.to_bytes())
    assert loaded.vocabulary == counts.vocabulary
    for name in ("indptr", "rows", "tf", "lengths"):
        assert np.array_equal(getattr(loaded, name), getattr(counts, name)), name
    assert np.array_equal(BM25.from_counts([loaded]).scores(query), BM25(corpus).scores(query))


def test_japanese_bigrams_and_english_words_are_normalised() -> None:
    bm25 = BM25(CORPUS)
    # Full-width Latin and case do not matter: ＸＥＮ, Xen and xen are one term.
    assert bm25.scores("XEN").argmax() == 4 and bm25.scores("ｘｅｎ")[4] == bm25.scores("xen")[4]
    # A Japanese question matches through shared bigrams, without any word segmentation.
    assert bm25.scores("東京タワーはどこにありますか").argmax() == 1
    # A word inside Latin text is a whole term: "windows" does not match "win".
    assert not bm25.scores("win").any() and bm25.scores("Windows").argmax() == 2
    # A single CJK character only matches a one-character run, never inside a bigram.
    assert bm25.scores("富").max() == 0 and bm25.scores("富士").argmax() == 5


def test_idf_is_highest_for_unseen_and_rare_terms() -> None:
    bm25 = BM25(CORPUS)
    assert bm25.idf("存在") > bm25.idf("仮想") > 0  # unseen > in two texts
    assert bm25.idf("仮想") == pytest.approx(math.log(1 + (6 - 2 + 0.5) / (2 + 0.5)))


def test_counts_layout_example_from_the_docstring() -> None:
    counts = TermCounts.from_texts(["東京都", "東京"])
    assert counts.vocabulary == ["京都", "東京"]
    assert counts.rows.tolist() == [0, 0, 1] and counts.tf.tolist() == [1, 1, 1]
    assert counts.indptr.tolist() == [0, 1, 3] and counts.lengths.tolist() == [2, 1]


def _same(a: TermCounts, b: TermCounts) -> bool:
    arrays = ("indptr", "rows", "tf", "lengths")
    return a.vocabulary == b.vocabulary and all(
        np.array_equal(getattr(a, n), getattr(b, n)) for n in arrays
    )


@given(
    st.lists(st.lists(st.text(alphabet="東京大阪都市 ab", max_size=12), max_size=6), max_size=4),
    st.randoms(use_true_random=False),
)
def test_merged_counts_equal_counting_the_kept_texts(parts, rnd) -> None:
    """Texts of several parts (kept, dropped, reordered) merged by array operations give
    exactly what counting the kept texts gives."""
    positions = [(p, i) for p, texts in enumerate(parts) for i in range(len(texts))]
    kept = [pos for pos in positions if rnd.random() < 0.7]
    rnd.shuffle(kept)
    place = {pos: new for new, pos in enumerate(kept)}
    merged = TermCounts.merged(
        [
            (
                TermCounts.from_texts(texts),
                np.array([place.get((p, i), -1) for i in range(len(texts))]),
            )
            for p, texts in enumerate(parts)
        ],
        len(kept),
    )
    assert _same(merged, TermCounts.from_texts([parts[p][i] for p, i in kept]))


@hypothesis_settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.text(alphabet="東京大阪都市 ab", max_size=12), max_size=5), max_size=4),
    st.randoms(use_true_random=False),
    st.text(alphabet="東京大阪都市 ab", max_size=8),
)
def test_bm25_over_parts_with_dead_texts_equals_bm25_over_the_live_ones(parts, rnd, query):
    """Segments with tombstones score as an index of their live texts alone would: the
    same idf, average length and scores (dead texts 0), whatever the split into parts."""
    flat = [t for texts in parts for t in texts]
    alive = np.array([rnd.random() < 0.7 for _ in flat], dtype=bool)
    over_parts = BM25.from_counts([TermCounts.from_texts(texts) for texts in parts], alive)
    live_only = BM25([t for t, a in zip(flat, alive, strict=True) if a])
    scores = over_parts.scores(query)
    assert np.allclose(scores[alive], live_only.scores(query), rtol=1e-6, atol=1e-7)
    assert not scores[~alive].any()
    assert over_parts.size == live_only.size
    assert over_parts.matchable_share(query) == pytest.approx(live_only.matchable_share(query))


@pytest.mark.parametrize("damage", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_unreadable_counts_are_a_value_error(damage: bytes) -> None:
    with pytest.raises(ValueError):
        TermCounts.from_bytes(damage)


def test_inconsistent_counts_are_a_value_error() -> None:
    good = TermCounts.from_texts(CORPUS)
    bad = TermCounts(good.vocabulary[:-1], good.indptr, good.rows, good.tf, good.lengths)
    with pytest.raises(ValueError, match="inconsistent"):
        TermCounts.from_bytes(bad.to_bytes())


def test_index_persists_counts_and_searcher_uses_them(settings) -> None:
    stats = build_index(settings=settings, progress=False)
    [record] = json.loads((settings.index_dir / stats.generation / MANIFEST).read_text())[
        "segments"
    ]
    assert LEXICAL in record["files"]
    assert (settings.index_dir / FOLDER / record["name"] / LEXICAL).is_file()
    index = load_index(settings.index_dir)
    fresh = BM25([c.text for c in index.chunks])
    store = EmbeddedStore(index)
    for query in ["仮想化のライセンス", "Novell Xen GPL"]:
        assert np.allclose(store.bm25.scores(query), fresh.scores(query))

    # An added document goes into a segment of its own, scored with the rest.
    (settings.docs_dir / "fuji.md").write_text("富士山の高さは3776メートルです。", encoding="utf-8")
    build_index(settings=settings, progress=False)
    updated = EmbeddedStore(load_index(settings.index_dir))
    assert len(updated.index.segments) == 2
    assert updated.bm25.size == len(index.chunks) + 1
    assert updated.bm25.scores("富士山の高さ").argmax() == updated.bm25.size - 1


def test_damaged_counts_make_the_generation_corrupt(settings) -> None:
    stats = build_index(settings=settings, progress=False)
    manifest_path = settings.index_dir / stats.generation / MANIFEST
    [record] = json.loads(manifest_path.read_text())["segments"]
    path = settings.index_dir / FOLDER / record["name"] / LEXICAL
    other = TermCounts.from_texts(["別の文書"]).to_bytes()
    path.write_bytes(other)
    with pytest.raises(CorruptIndex, match=LEXICAL):
        load_index(settings.index_dir)  # the recorded hash no longer matches
    manifest = json.loads(manifest_path.read_text())
    manifest["segments"][0]["files"][LEXICAL] = hashlib.sha256(other).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndex, match="rows"):
        load_index(settings.index_dir)  # consistent file, but for other chunks


def test_fusion_example_and_degenerate_legs() -> None:
    fused = fuse(np.array([0.8, 0.9]), np.array([0.0, 2.0]), 0.3)
    assert np.allclose(fused, [-1.0, 1.0])
    dense = np.array([0.7, 0.9, 0.8], dtype=np.float32)
    no_match = fuse(dense, np.zeros(3, dtype=np.float32), 0.3)
    assert top_k(no_match, 3).tolist() == [1, 2, 0]  # no lexical evidence: dense order
    assert not fuse(np.ones(1), np.ones(1), 0.3).any()  # one chunk: nothing to normalise


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.5, 1.0, -2.0]), min_size=1, max_size=40),
    k=st.integers(min_value=0, max_value=45),
)
def test_top_k_equals_a_stable_full_sort(scores: list[float], k: int) -> None:
    array = np.array(scores, dtype=np.float32)
    expected = np.argsort(-array, kind="stable")[:k]
    assert top_k(array, k).tolist() == expected.tolist()
