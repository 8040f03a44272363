"""Two-turn conversations whose second turn refers back (tests/data/followups.jsonl)."""

import json
from pathlib import Path

import pytest

from qa import answer, search
from qa.evaluation_qa import overlaps
from qa.questions import search_query

from .conftest import SEED_ID, SEEDS

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "followups.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _holds_evidence(case, spans) -> bool:
    start = ARTICLE.index(case["evidence"])
    evidence = (start, start + len(case["evidence"]))
    return any(overlaps(evidence, span) for span in spans)


def test_follow_ups_find_and_cite_their_evidence(seed_settings) -> None:
    retrieved, cited = [], []
    for case in CASES:
        first, second = case["turns"]
        a = answer(second, history=[{"role": "user", "content": first}], settings=seed_settings)
        assert a.searched_query.startswith(first)  # the follow-up borrowed the first turn
        hits = search(a.searched_query, k=3, settings=seed_settings)
        if _holds_evidence(case, [(h.start, h.end) for h in hits]):
            retrieved.append(case["id"])
        if _holds_evidence(case, [(c.start, c.end) for c in a.citations]):
            cited.append(case["id"])
    assert len(retrieved) >= 0.8 * len(CASES), f"evidence in the top 3 passages for {retrieved}"
    # Measured 15/16: the short answers quote one or two spans, not always the evidence.
    assert len(cited) >= 15, f"evidence cited for {cited}"


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("それはいつ？", ["Xenのドライバは？"], "Xenのドライバは？ それはいつ？"),
        ("Who said that?", ["GPL license?"], "GPL license? Who said that?"),
        ("なぜ？", ["Xenとは？", "それはいつ？"], "Xenとは？ それはいつ？ なぜ？"),
        ("ノベルが開発中のXenの仮想化ドライバのライセンスは？", ["講演は？"], None),
        ("それは？", [], None),
        ("それは？", [{"role": "assistant", "content": "答え"}], None),
    ],
)
def test_search_query_resolves_follow_ups(question, history, expected) -> None:
    assert search_query(question, history) == (expected or question)
