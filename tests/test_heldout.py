"""Answer quality floors on held-out data, with the real model and the shipped reader.

Japanese: the JSQuAD v1.3 valid paragraphs of tests/data/jsquad-sample.json whose article is in
the held-out half (`qa.evaluation.split_of`); English: 40 questions written for kotae about
held-out JSQuAD paragraphs (tests/data/jsquad-heldout-en.jsonl), their paragraphs indexed with
the sample (jsquad-en-sample.json). Nothing here chose anything: the reader was trained on
JaQuAD train, the answer selector fitted and its minimums chosen on the tuning halves
(benchmarks/fit_selector.py). English and Japanese questions over English text: the held-out
articles of benchmarks/data/english-articles.json (paragraphs and questions written for kotae)
and english-articles-ja.jsonl (the same questions in Japanese). Each floor
sits below the figure measured with the shipped weights (in the comment).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.config import Settings
from qa.evaluation import evaluate_squad
from qa.evaluation_answers import ReadingMetrics

from .conftest import DATA

QUESTIONS = 60  # sampled from the held-out half of the sample
ENGLISH_ARTICLES = Path(__file__).parent.parent / "benchmarks" / "data" / "english-articles.json"


@pytest.fixture(scope="module")
def heldout(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> dict[str, ReadingMetrics]:
    work = tmp_path_factory.mktemp("heldout")
    sample = json.loads((DATA / "jsquad-sample.json").read_text(encoding="utf-8"))
    english = json.loads((DATA / "jsquad-en-sample.json").read_text(encoding="utf-8"))
    merged = work / "jsquad-heldout.json"
    merged.write_text(
        json.dumps({**sample, "data": sample["data"] + english["data"]}, ensure_ascii=False),
        encoding="utf-8",
    )
    report = evaluate_squad(
        merged,
        answers=QUESTIONS,
        translated=DATA / "jsquad-heldout-en.jsonl",
        splits=("heldout",),
        workdir=work,
        settings=Settings(cache_dir=model_cache),
    )
    assert report.answers is not None
    return report.answers


def test_japanese_held_out_answers(heldout) -> None:
    m = heldout["heldout/ja"]
    assert m.questions == QUESTIONS
    # Measured with the shipped reader (fifth run) and selector (with and without the
    # answer-type features alike): reader F1 0.790, contains 0.817, abstains 0.083, negatives
    # answered 0.116 (43); the fourth run: 0.763, 0.800 and the same.
    assert (m.reader_f1, m.contained) >= (0.65, 0.70), m
    assert m.abstained <= 0.15 and m.negatives_answered <= 0.35, m


def test_english_questions_over_japanese_held_out_answers(heldout) -> None:
    m = heldout["heldout/en"]
    assert m.questions == 40
    # Measured, reading 2 passages: contains 0.900, abstains 0.025 (an index of 229 paragraphs
    # ranks them well), negatives answered 0.212 (33), with and without the answer-type
    # features; with the fourth reader run and the
    # English minimum at 5% of tuning questions abstaining, 0.900 / 0.025 / 0.424; with the
    # third 0.875 / 0.000 / 0.545; before JMdict's headwords and the selector's unit features,
    # 0.850 / 0.000 / 0.62.
    assert m.contained >= 0.60 and m.abstained <= 0.15 and m.negatives_answered <= 0.75, m


@pytest.fixture(scope="module")
def over_english(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> dict[str, ReadingMetrics]:
    """The 11 held-out articles of benchmarks/data/english-articles.json (written for kotae):
    33 paragraphs, 66 questions in English and the same in Japanese, answered from all 72."""
    report = evaluate_squad(
        ENGLISH_ARTICLES,
        answers=100,
        translated=ENGLISH_ARTICLES.with_name("english-articles-ja.jsonl"),
        splits=("heldout",),
        workdir=tmp_path_factory.mktemp("english"),
        settings=Settings(cache_dir=model_cache),
    )
    assert report.answers is not None
    return report.answers


def test_english_questions_over_english_held_out_answers(over_english) -> None:
    m = over_english["heldout/en-en"]
    assert m.questions == 66
    # Measured with the fifth reader run: contains 0.848, abstains 0.061, negatives answered
    # 0.182 (66); before the answer-type features 0.848 / 0.045 / 0.197; held to the Japanese
    # minimum, as before English over English had its own: 0.773 / 0.182 / 0.030.
    assert m.contained >= 0.75 and m.abstained <= 0.15 and m.negatives_answered <= 0.35, m


def test_japanese_questions_over_english_held_out_answers(over_english) -> None:
    m = over_english["heldout/ja-en"]
    assert m.questions == 66
    # Measured with the fifth reader run: contains 0.712, abstains 0.136, negatives answered
    # 0.394 (66); before the answer-type features 0.727 / 0.106 / 0.455. Read as same-language
    # and held to the Japanese minimum, as before, all 66 abstained.
    assert m.contained >= 0.55 and m.abstained <= 0.25 and m.negatives_answered <= 0.65, m
