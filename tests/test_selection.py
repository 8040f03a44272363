"""The answer selector: its features, its file, and that answers follow its choice."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from qa import answer, search
from qa.config import Settings
from qa.dictionary import Dictionary
from qa.embedding import load_embedder
from qa.errors import ModelUnavailable
from qa.reader import ReadSpan, build_reader
from qa.selection import FEATURES, Selector, cross_lingual, features, kinds, pairing
from qa.types import Hit

from .conftest import dev_cases


def _hit(text: str, dense: float) -> Hit:
    return Hit("d.txt", "d.txt#0", 0, len(text), text, 1.0, dense, 0.0)


def _row(matrix: np.ndarray, i: int) -> dict[str, float]:
    return dict(zip(FEATURES, matrix[i].tolist(), strict=True))


def test_features_describe_each_span_and_its_passage() -> None:
    hits = [_hit("ラムジ氏がサンフランシスコで講演した。", 0.9), _hit("東京タワーは高い。", 0.7)]
    spans = [ReadSpan(0, 0, 3, 5.0, 1.0), ReadSpan(1, 0, 5, 2.0, 4.0)]
    x = features("講演したのは誰？", hits, spans)
    assert x.shape == (2, len(FEATURES))
    first, second = _row(x, 0), _row(x, 1)
    assert (first["margin"], first["span"], first["null"]) == (4.0, 5.0, 1.0)
    assert second["margin"] == -2.0 and second["log_rank"] == pytest.approx(math.log(2))
    assert first["cosine_gap"] == 0.0 and second["cosine_gap"] == pytest.approx(-0.2)
    # The question's content terms are {講演}: its wording (のは, 誰) counts for nothing.
    assert (first["cover"], first["near_cover"], second["cover"]) == (1.0, 1.0, 0.0)
    assert first["span_chars"] == pytest.approx(math.log(4))
    assert first["cross"] == 0.0 and first["cross_margin"] == 0.0


def test_cross_lingual_features_are_set_across_scripts_only() -> None:
    japanese, english = _hit("ラムジ氏が講演した。", 0.8), _hit("Ramji gave the talk.", 0.8)
    spans = [ReadSpan(0, 0, 3, 3.0, 1.0), ReadSpan(1, 0, 5, 3.0, 1.0)]
    x = features("Who gave the talk?", [japanese, english], spans)
    over_japanese, over_english = _row(x, 0), _row(x, 1)
    assert over_japanese["cross"] == 1.0 and over_japanese["cross_margin"] == 2.0
    assert over_japanese["cross_cosine"] == pytest.approx(0.8)
    # {gave, talk}: "who" and "the" are stop words.
    assert over_english["cross"] == 0.0 and over_english["cover"] == 1.0
    assert over_japanese["cover"] == over_japanese["cross_cover"] == 0.0
    assert cross_lingual("Who?", "ラムジ") and not cross_lingual("誰?", "ラムジ")
    assert cross_lingual("誰?", "Ramji") and not cross_lingual("Who?", "Ramji")
    # A Japanese question over English text: the cross-lingual copies, without English units.
    reverse = _row(features("誰が講演した？", [english], [ReadSpan(0, 0, 5, 3.0, 1.0)]), 0)
    assert reverse["cross"] == 1.0 and reverse["cross_margin"] == 2.0
    assert reverse["cross_units"] == 0.0 and reverse["reverse_margin"] == 2.0
    assert over_japanese["reverse"] == over_english["reverse"] == 0.0
    pairs = [("Who?", "ラムジ"), ("誰?", "ラムジ"), ("Who?", "Ramji"), ("誰?", "Ramji")]
    assert [pairing(*p) for p in pairs] == ["en", "ja", "en-en", "ja-en"]
    assert features("Who?", [], []).shape == (0, len(FEATURES))


def test_a_japanese_questions_kind_of_answer_is_matched_against_each_span() -> None:
    text = "ラムジ氏が2007年にサンフランシスコで講演した。"
    hits = [_hit(text, 0.9), _hit("Sam Ramji spoke in 2007.", 0.8)]
    # Spans: 2007年, サンフランシスコ, Sam Ramji.
    spans = [ReadSpan(0, 5, 10, 3.0, 1.0), ReadSpan(0, 11, 19, 3.0, 1.0)]
    spans.append(ReadSpan(1, 0, 9, 3.0, 1.0))
    x = features("講演したのは何年ですか？", hits, spans)
    year, city, english = _row(x, 0), _row(x, 1), _row(x, 2)
    assert (year["kind_held"], year["kind_missing"]) == (1.0, 0.0)
    assert (city["kind_held"], city["kind_missing"]) == (0.0, 1.0)
    assert (english["kind_held"], english["kind_missing"]) == (0.0, 1.0)  # a name, not a year
    where = _row(features("どこで講演しましたか", hits, spans), 1)
    assert (where["kind_held"], where["kind_missing"]) == (1.0, 0.0)
    # No kind asked (何, なぜ), or an English question: both 0.
    for question in ("何を公開しましたか", "なぜ講演したのか", "When did he speak?"):
        row = _row(features(question, hits, spans), 0)
        assert (row["kind_held"], row["kind_missing"]) == (0.0, 0.0), question
    assert kinds("in 1854") == {"number", "time"} and "time" in kinds("in May")
    assert kinds("Sam Ramji") == {"person", "place"} and kinds("the drivers") == set()
    assert kinds("ペリー提督") == {"person"}


def test_an_english_questions_words_count_when_a_passage_holds_them_or_their_headwords(
    model_cache: Path,
) -> None:
    """Units of "Who spoke in San Francisco about Xen?": spoke, san francisco, xen (JMdict gives
    サンフランシスコ for the second; Xen has no entry and counts as written)."""
    text = "ラムジ氏がサンフランシスコで講演した。Xenのドライバも公開した。東京タワーは高い。"
    hits = [_hit(text, 0.8), _hit("東京タワーは高い。", 0.8)]
    spans = [
        ReadSpan(0, 0, 3, 3.0, 1.0),
        ReadSpan(0, 37, 41, 3.0, 1.0),
        ReadSpan(1, 0, 4, 3.0, 1.0),
    ]
    question = "Who spoke in San Francisco about Xen?"
    x = features(question, hits, spans, Dictionary(model_cache, 8))
    in_both, about_tokyo, elsewhere = _row(x, 0), _row(x, 1), _row(x, 2)
    assert in_both["cross_units"] == pytest.approx(2 / 3)  # サンフランシスコ and Xen, not "spoke"
    assert in_both["cross_near_units"] == pytest.approx(1 / 3)  # its sentence: サンフランシスコ
    assert about_tokyo["cross_units"] == in_both["cross_units"]
    assert about_tokyo["cross_near_units"] == 0.0
    assert elsewhere["cross_units"] == 0.0
    # Without a dictionary there are no units; nor for a Japanese question.
    bare = _row(features(question, hits, spans), 0)
    assert bare["cross_units"] == 0.0
    japanese = _row(features("講演したのは誰？", hits, spans, Dictionary(model_cache, 8)), 0)
    assert japanese["cross_units"] == japanese["cross_near_units"] == 0.0


def test_a_selector_round_trips_through_json_and_rejects_what_does_not_fit(
    tmp_path: Path,
) -> None:
    n = len(FEATURES)
    selector = Selector(np.arange(n) * 0.5, np.ones(n) * 2, np.linspace(-1, 1, n), 0.25)
    path = tmp_path / "selector.json"
    path.write_text(selector.to_json("a test"), encoding="utf-8")
    again = Selector.load(path)
    rows = np.random.default_rng(0).normal(size=(4, n))
    assert np.allclose(again.of(rows), selector.of(rows))
    assert np.allclose(selector.of(rows), ((rows - selector.mean) / 2) @ selector.weights + 0.25)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["provenance"] == "a test"
    for broken, message in (
        ({**data, "features": data["features"][::-1]}, "its features are"),
        ({**data, "weights": [1.0]}, "wrong length"),
        ({k: v for k, v in data.items() if k != "bias"}, "bias"),
    ):
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ModelUnavailable, match=message):
            Selector.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="cannot read the answer selector"):
        Selector.load(path)
    with pytest.raises(ModelUnavailable, match="cannot read the answer selector"):
        Selector.load(tmp_path / "missing.json")


def test_the_shipped_selector_loads_and_says_where_it_came_from() -> None:
    path = Settings().selector_weights
    selector = Selector.load(path)
    assert np.all(selector.scale > 0) and np.isfinite(selector.weights).all()
    assert "benchmarks/fit_selector.py" in json.loads(path.read_text("utf-8"))["provenance"]


def test_the_answer_is_the_span_the_selector_rates_highest(tiny_seed_settings) -> None:
    s = tiny_seed_settings.replace(reader_passages=3)
    selector = Selector.load(s.selector_weights)
    embedder = load_embedder(s.embed_model, s.cache_dir)
    reader = build_reader(embedder.transformer, embedder.tokenizer, s.reader_weights)
    for case in dev_cases()[:6]:
        question = case["question"]
        hits = search(question, k=3, settings=s)
        spans = reader.read(question, [h.text for h in hits])
        logits = selector.logits(question, hits, spans)
        a = answer(question, settings=s)
        assert a.confidence == pytest.approx(float(max(logits)))
        best = spans[int(np.argmax(logits))]
        cited = a.citations[0]
        assert cited.doc_id == hits[best.passage].doc_id
        assert hits[best.passage].start <= cited.highlight[0] < hits[best.passage].end
