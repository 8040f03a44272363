"""Two-turn conversations whose second turn refers back (tests/data/followups.jsonl)."""

import json
from pathlib import Path

import pytest

from qa import answer
from qa.questions import search_query

from .conftest import SEED_ID, SEEDS

ARTICLE = (SEEDS / SEED_ID).read_text(encoding="utf-8")
CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "followups.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _cites_evidence(case, a) -> bool:
    start = ARTICLE.index(case["evidence"])
    end = start + len(case["evidence"])
    return any(
        min(end, c.end) - max(start, c.start) >= 0.5 * min(end - start, c.end - c.start)
        for c in a.citations
    )


def test_follow_ups_find_their_evidence(seed_settings) -> None:
    found = []
    for case in CASES:
        first, second = case["turns"]
        a = answer(second, history=[{"role": "user", "content": first}], settings=seed_settings)
        assert a.searched_query.startswith(first)  # the follow-up borrowed the first turn
        if _cites_evidence(case, a):
            found.append(case["id"])
    assert len(found) >= 0.8 * len(CASES), f"evidence found for {found}"


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
