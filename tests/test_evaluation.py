"""`qa eval` and the functions behind it, on the real model and real on-disk indexes.

The JSQuAD paragraphs are tests/data/jsquad-sample.json, every 6th paragraph of JSQuAD v1.3
valid (JGLUE, Yahoo Japan; CC BY-SA 4.0; see tests/data/README.md).
"""

import json
from pathlib import Path

import pytest

from qa import search
from qa.answering import minimums, needed_logit
from qa.cli import main
from qa.config import Settings
from qa.evaluation import RankMetrics, evaluate_squad, load_squad
from qa.evaluation_answers import (
    ReadCase,
    ReadingMetrics,
    choose_threshold,
    contains_answer,
)
from qa.evaluation_qa import QACaseResult, QAMetrics, evaluate_qa, overlaps

from .conftest import DATA

JSQUAD = DATA / "jsquad-sample.json"
DEV = DATA / "seed_qa_dev.jsonl"
SUBSET = 50


@pytest.fixture(scope="module")
def squad_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Documents and index of the JSQuAD subset, shared by this module's tests."""
    return tmp_path_factory.mktemp("squad-eval")


@pytest.fixture(scope="module")
def subset_report(squad_workdir: Path, model_cache: Path, embedder):
    """The sample's first 50 paragraphs, indexed and evaluated once."""
    from qa.config import Settings

    settings = Settings(cache_dir=model_cache)
    return evaluate_squad(JSQUAD, limit=SUBSET, workdir=squad_workdir, settings=settings)


def _tiny_squad(path: Path) -> Path:
    """Three paragraphs; the last question is filed under the wrong paragraph on purpose."""
    paragraphs = [
        ("富士山", "富士山は日本で最も高い山で、標高は3776メートルである。", ["日本一高い山は？"]),
        ("寿司", "寿司は酢飯と魚介類を組み合わせた日本料理である。", ["酢飯を使う料理は？"]),
        (
            "電車",
            "新幹線は東京と大阪を約2時間半で結ぶ高速鉄道である。",
            ["東京と大阪を結ぶ鉄道は？"],
        ),
    ]
    data = {
        "data": [
            {
                "title": title,
                "paragraphs": [
                    {"context": f"{title} [SEP] {context}", "qas": [{"question": q} for q in qs]}
                ],
            }
            for title, context, qs in paragraphs
        ]
    }
    data["data"][0]["paragraphs"][0]["qas"].append({"question": "新幹線はどこを結ぶ？"})
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _work_settings(tmp_path: Path, settings):
    work = tmp_path / "work"
    return settings.replace(docs_dir=work / "docs", index_dir=work / "index")


def test_squad_subset_metrics_are_sane(subset_report, squad_workdir: Path) -> None:
    r = subset_report
    expected_questions = sum(len(p.questions) for p in load_squad(JSQUAD)[:SUBSET])
    assert (r.questions, r.documents, r.dataset) == (expected_questions, SUBSET, JSQUAD.name)
    assert r.chunks >= SUBSET and r.chunks_embedded == r.chunks
    # MRR@10 lies between R@1 and 1, but not always below R@5 (see the RankMetrics test).
    assert 0 < r.r_at_1 <= r.mrr_at_10 <= 1
    assert r.r_at_1 <= r.r_at_5 <= r.r_at_10 <= 1
    assert r.r_at_5 >= 0.9  # 50 documents: the gold paragraph is nearly always near the top
    for value in (r.r_at_1, r.r_at_5, r.r_at_10):
        assert (value * r.questions) == pytest.approx(round(value * r.questions))
    docs = sorted(p.name for p in (squad_workdir / "docs").iterdir())
    assert docs[0] == "p0000.txt" and len(docs) == SUBSET
    assert "[SEP]" not in (squad_workdir / "docs" / "p0000.txt").read_text(encoding="utf-8")


def test_squad_rerun_reuses_the_index(subset_report, squad_workdir: Path, model_cache) -> None:
    from qa.config import Settings

    settings = Settings(cache_dir=model_cache)
    again = evaluate_squad(JSQUAD, limit=SUBSET, workdir=squad_workdir, settings=settings)
    assert again.chunks_embedded == 0
    assert (again.r_at_1, again.mrr_at_10) == (subset_report.r_at_1, subset_report.mrr_at_10)


def test_squad_metrics_are_computed_from_document_ranks(tmp_path: Path, settings) -> None:
    squad = _tiny_squad(tmp_path / "tiny.json")
    report = evaluate_squad(squad, workdir=tmp_path / "work", settings=settings)
    hits = search("新幹線はどこを結ぶ？", k=10, settings=_work_settings(tmp_path, settings))
    misfiled_rank = [h.doc_id for h in hits].index("p0000.txt") + 1
    assert misfiled_rank > 1  # the Shinkansen question is really about p0002
    assert (report.questions, report.documents) == (4, 3)
    assert report.r_at_1 == pytest.approx(3 / 4)
    assert report.r_at_5 == report.r_at_10 == 1.0
    assert report.mrr_at_10 == pytest.approx((3 + 1 / misfiled_rank) / 4)


def test_qa_eval_on_the_dev_file(seed_settings) -> None:
    report = evaluate_qa(DEV, settings=seed_settings)
    cases = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    answerable = [c for c in cases if c["answers"]]
    o = report.overall
    assert (o.cases, o.answerable, o.unanswerable) == (len(cases), len(answerable), 6)
    assert set(report.by_language) == {"ja", "en"}
    assert sum(m.cases for m in report.by_language.values()) == o.cases
    assert [r.id for r in report.results] == [c["id"] for c in cases]
    # One short article in 15 chunks: most evidence is in a top-3 passage (14 of 16 measured).
    assert o.evidence_at_3 is not None and o.evidence_at_3 >= 0.8
    assert o.answer_containment is not None and o.answer_containment >= 0.6
    assert o.citation_evidence_rate is not None and o.citation_evidence_rate >= 0.75
    assert o.correct_abstentions >= 3 and o.false_abstentions <= 3
    for r in report.results:
        assert not (r.abstained and (r.contained or r.evidence_cited))
    assert "problems:" in report.summary() and "ja" in report.summary()


def test_rank_metrics_mrr_may_exceed_recall_at_5() -> None:
    m = RankMetrics.of([1, 6])  # one hit at the top, one just outside the top 5
    assert (m.r_at_1, m.r_at_5, m.r_at_10) == (0.5, 0.5, 1.0)
    assert m.mrr_at_10 == pytest.approx((1 + 1 / 6) / 2)  # 0.583
    assert m.mrr_at_10 > m.r_at_5
    assert RankMetrics.of([0, 11]) == RankMetrics(0.0, 0.0, 0.0, 0.0)  # nothing in the top 10


def test_qa_metrics_arithmetic() -> None:
    def case(lang, answerable, abstained, contained=False, cited=False, retrieved=False, chars=61):
        return QACaseResult("x", lang, answerable, abstained, contained, cited, retrieved, chars)

    results = [
        case("ja", True, False, contained=True, cited=True, retrieved=True, chars=40),
        case("ja", True, False, contained=False, cited=True, retrieved=True, chars=90),
        case("ja", True, True),  # false abstention
        case("en", False, True),  # correct abstention
        case("en", False, False, chars=300),  # answered an unanswerable question
    ]
    m = QAMetrics.of(results)
    assert (m.cases, m.answerable, m.unanswerable) == (5, 3, 2)
    assert m.answer_containment == pytest.approx(1 / 3)
    assert m.citation_evidence_rate == pytest.approx(2 / 3)
    assert m.evidence_at_3 == pytest.approx(2 / 3)
    assert (m.correct_abstentions, m.false_abstentions) == (1, 1)
    assert m.abstention_accuracy == pytest.approx(3 / 5)
    assert m.median_chars == 65  # answers given to answerable cases only
    only_unanswerable = QAMetrics.of(results[3:])
    assert only_unanswerable.answer_containment is None  # nothing to count, not 0
    assert only_unanswerable.median_chars is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 10), (5, 30), True),
        ((0, 10), (6, 30), False),
        ((0, 4), (4, 8), False),
        ((3, 5), (0, 100), True),
    ],
)
def test_overlap_is_at_least_half_of_the_shorter_span(a, b, expected) -> None:
    assert overlaps(a, b) is expected and overlaps(b, a) is expected


def test_answers_match_after_nfkc_case_and_spaces() -> None:
    assert contains_answer("Windows Vista と ＸＰ [1]", ["windowsvista"])
    assert contains_answer("サム・ラムジ氏です", ["サム・ ラムジ"])
    assert not contains_answer("Vista", ["Windows Vista"])
    assert not contains_answer("anything", ["", "  "])  # an empty alias matches nothing


def test_cli_eval_json(seed_settings, tmp_path: Path, settings, capsys) -> None:
    paths = ["--docs", str(seed_settings.docs_dir), "--index", str(seed_settings.index_dir)]
    assert main(["eval", "--qa", str(DEV), "--limit", "5", "--json", *paths]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["cases"] == 5 and len(data["results"]) == 5

    squad = _tiny_squad(tmp_path / "tiny.json")
    work = ["--workdir", str(tmp_path / "work")]
    assert main(["eval", "--squad", str(squad), *work, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["questions"] == 4 and data["r_at_5"] == 1.0 and data["dataset"] == "tiny.json"

    assert main(["eval", "--squad", str(squad), *work]) == 0
    out = capsys.readouterr().out
    assert "R@1 0.750" in out and "MRR@10" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qa", "missing.jsonl"], "cannot read"),
        (["--squad", "missing.json"], "cannot read"),
        (["--qa", "DEV", "--limit", "0"], "positive"),
        (["--squad", "BAD"], "SQuAD format"),
    ],
)
def test_cli_eval_errors_exit_2(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    args = [{"DEV": str(DEV), "BAD": str(bad)}.get(a, a) for a in args]
    assert main(["eval", *args, "--workdir", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: error:") and message in err and err.count("\n") == 1


def _case(confidence: float, negative: float | None = None, contained: bool = True) -> ReadCase:
    return ReadCase("heldout", "ja", confidence, contained, True, 1.0, 20, True, 1.0, negative)


def test_the_threshold_is_the_strictest_with_few_false_abstentions() -> None:
    cases = [_case(m / 10) for m in range(100)]  # confidences 0.0, 0.1, ... 9.9
    assert choose_threshold(cases) == 0.5  # 5 of 100 abstain below 0.5
    assert choose_threshold(cases, max_abstained=0.0) == 0.0
    assert choose_threshold([_case(-1.25)]) == -1.3  # rounded down: that one still answers


def test_reading_metrics_apply_the_threshold_to_positives_and_negatives() -> None:
    cases = [_case(2.0, negative=-1.0), _case(0.5, negative=1.5), _case(-2.0, contained=False)]
    m = ReadingMetrics.of(cases, threshold=1.0)
    assert (m.questions, m.abstained, m.contained) == (
        3,
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    )
    assert (m.negatives, m.negatives_answered) == (2, 0.5)


def test_each_pairing_of_languages_is_held_to_its_own_minimum() -> None:
    s = Settings(
        min_answer_logit=1.0,
        min_answer_logit_cross_lingual=-3.0,
        min_answer_logit_english=-0.5,
        min_answer_logit_japanese_over_english=-4.0,
    )
    assert minimums(s) == {"ja": 1.0, "en": -3.0, "en-en": -0.5, "ja-en": -4.0}
    assert needed_logit("Who spoke?", "ラムジ氏が講演した。", s) == -3.0
    assert needed_logit("誰が講演した？", "ラムジ氏が講演した。", s) == 1.0
    assert needed_logit("Who spoke?", "Ramji spoke.", s) == -0.5
    assert needed_logit("誰が講演した？", "Ramji spoke.", s) == -4.0
