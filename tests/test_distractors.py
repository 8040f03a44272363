"""The seed article among 191 JSQuAD paragraphs: its questions must still find their evidence.

The distractors are tests/data/jsquad-sample.json, every 6th paragraph of JSQuAD v1.3 valid
(JGLUE, Yahoo Japan; CC BY-SA 4.0; see tests/data/README.md), from 48 of its 59 Wikipedia
articles. Until issue 13 this test indexed all 1,145 paragraphs; the sample keeps it
self-contained and about 6x quicker to embed. Measured with the sample: 16 of 16 evidence spans
in the top 3 (with all 1,145: 15, ja05's at rank 6), so the thresholds are unchanged. The index
is built once per test session.
"""

import shutil

import pytest

from qa import search
from qa.build import build_index
from qa.config import Settings
from qa.evaluation import load_squad, write_paragraphs
from qa.evaluation_qa import overlaps

from .conftest import DATA, SEED_ID, SEEDS, dev_cases

JSQUAD = DATA / "jsquad-sample.json"
ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
ANSWERABLE = [c for c in dev_cases() if c["answers"]]


@pytest.fixture(scope="session")
def distractor_settings(tmp_path_factory, model_cache, embedder) -> Settings:
    """An index of the seed article and the sample's paragraphs (p0000.txt ... p0190.txt)."""
    root = tmp_path_factory.mktemp("distractors")
    write_paragraphs(root / "docs", [p.context for p in load_squad(JSQUAD)])
    shutil.copy(SEEDS / SEED_ID, root / "docs" / SEED_ID)
    s = Settings(docs_dir=root / "docs", index_dir=root / "index", cache_dir=model_cache)
    stats = build_index(s, embedder, progress=False)
    assert stats.added == 192
    return s


def _evidence_rank(case: dict, settings: Settings, k: int) -> int:
    """1-based rank of the first passage overlapping the case's evidence, 0 if none in top k."""
    start = ARTICLE.find(str(case["evidence"]))
    assert start >= 0, "evidence must be verbatim article text"
    evidence = (start, start + len(str(case["evidence"])))
    hits = search(str(case["question"]), k=k, settings=settings)
    return next(
        (
            n
            for n, h in enumerate(hits, start=1)
            if h.doc_id == SEED_ID and overlaps((h.start, h.end), evidence)
        ),
        0,
    )


def test_dev_questions_find_their_evidence_among_distractors(distractor_settings) -> None:
    ranks = {c["id"]: _evidence_rank(c, distractor_settings, k=3) for c in ANSWERABLE}
    found = [case_id for case_id, rank in ranks.items() if rank]
    assert len(ANSWERABLE) == 16
    assert len(found) >= 15, f"evidence ranks in the top 3: {ranks}"


def test_english_questions_over_japanese_text_survive_distractors(distractor_settings) -> None:
    """Cross-lingual questions have few shared terms: the dense leg must carry them."""
    english = [c for c in ANSWERABLE if c["lang"] == "en"]
    ranks = {c["id"]: _evidence_rank(c, distractor_settings, k=3) for c in english}
    assert english and all(ranks.values()), ranks
