"""English questions' lexical query over Japanese text: their words looked up in JMdict.

Character bigrams of an English question say nothing about Japanese passages, so the lexical
leg of retrieval searches, besides the question, the Japanese headwords that JMdict (words)
and JMnedict (names) give for its words: "capital of the Republic of the Congo" adds 共和国
and コンゴ. Only headwords the index holds are added (a name has dozens of kanji spellings;
the index says which one its documents use), and at most `terms` per English word, the most
frequent words first (JMdict's newspaper frequency bands), a phrase's before its words'. The
dictionaries arrive with the `jamdict-data` package (EDRDG licence, CC BY-SA 3.0); the first
use copies their English glosses into a lookup table in the cache folder (about 15 s, 37 MB).

How many headwords a word keeps (`Settings.dictionary_terms`, 8) was chosen on the tuning
rows of benchmarks/crosslingual_retrieval.py --sweep: R@1 / R@5 of 300 English JaQuAD train
questions 0.597 / 0.827 with the question alone, 0.717 / 0.883 with 3, 0.750 / 0.900 with 8,
0.753 / 0.897 with 12; of 300 English JSQuAD tuning questions 0.567 / 0.833, 0.660 / 0.877,
0.683 / 0.880 and 0.680 / 0.880 (8 and 12 tie; the smaller was kept). On the 100 held-out
English JSQuAD questions it gives 0.620 / 0.880 against 0.470 / 0.800; Japanese questions are
untouched.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

from .errors import ModelUnavailable
from .japanese import has_cjk
from .storage import cached_folder

logger = logging.getLogger(__name__)

TABLE_VERSION = 1
_PHRASE_WORDS = 3  # the longest gloss looked up: "prime minister", "the Red Cross"
# Inflected forms back to the base form a gloss uses, tried in order after the word itself.
_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""))


@dataclass(frozen=True)
class Dictionary:
    """Lookups in the gloss table kept in `cache_dir` (made at the first English question);
    `terms` headwords at most per English word."""

    cache_dir: Path
    terms: int

    def lexical_query(self, query: str, occurs: Callable[[str], bool]) -> str:
        """The query with the Japanese headwords of its English words that `occurs` (the
        index holds them); a query with Japanese script is returned as it is."""
        if has_cjk(query) or self.terms <= 0:
            return query
        added = [h for _, heads in self._units(_words(query), occurs) for h in heads]
        return " ".join([query, *added]) if added else query

    def units(self, question: str) -> list[tuple[str, list[str]]]:
        """The question's English words and phrases, stop words left out, each with its first
        `terms` headwords: what a passage holds, in either language, when it covers them."""
        return self._units(_words(question), lambda _: True)

    def _units(
        self, words: list[str], occurs: Callable[[str], bool]
    ) -> list[tuple[str, list[str]]]:
        """Each word with its first `terms` headwords that `occurs`; a phrase's before its
        words' ("prime minister" is 首相, whose "minister" alone would be 牧師), when any
        occurs. A word without any keeps an empty list."""
        stop = _stop_words()
        if self.terms <= 0:
            return [(w, []) for w in words if w not in stop and len(w) > 1]
        units: list[tuple[str, list[str]]] = []
        i = 0
        table = _table(self.cache_dir.resolve())
        with closing(sqlite3.connect(f"{table.as_uri()}?mode=ro", uri=True)) as db:
            while i < len(words):
                for n in range(min(_PHRASE_WORDS, len(words) - i), 0, -1):
                    phrase = " ".join(words[i : i + n])
                    # "where is" is a gloss too (どうしたの): stop words alone are skipped.
                    if all(w in stop for w in words[i : i + n]) or len(phrase) < 2:
                        continue
                    heads = _lookup(db, _forms(phrase) if n == 1 else [phrase])
                    held = list(islice(filter(occurs, heads), self.terms))
                    if held:
                        units.append((phrase, held))
                        i += n
                        break
                else:
                    if words[i] not in stop and len(words[i]) > 1:
                        units.append((words[i], []))
                    i += 1
        return units


def load_dictionary(cache_dir: Path, terms: int) -> Dictionary | None:
    """The dictionary whose table lives in `cache_dir`, or None when `terms` is 0."""
    return Dictionary(cache_dir, terms) if terms > 0 else None


@lru_cache(maxsize=4)
def _table(cache_dir: Path) -> Path:
    def make(folder: Path) -> None:
        logger.info("Indexing the English glosses of JMdict (one time, ~15 s)…")
        try:
            build_table(folder / "glosses.sqlite")
        except (ImportError, sqlite3.Error) as e:
            raise ModelUnavailable(
                f"cannot read JMdict from the jamdict-data package ({e}); "
                "reinstall it (pip install jamdict-data) or set QA_DICTIONARY_TERMS=0"
            ) from e

    return cached_folder(cache_dir, f"jmdict-glosses-v{TABLE_VERSION}", make) / "glosses.sqlite"


def build_table(path: Path) -> None:
    """gloss → headwords, tab-separated, most frequent first: JMdict's words by the frequency
    marks of their entry (newspaper rank nf01–nf48, then the other lists), then JMnedict's
    names; read from the jamdict-data package's database."""
    import jamdict_data

    source = Path(jamdict_data.JAMDICT_DB_PATH)
    heads: dict[str, dict[str, int]] = {}  # gloss: headword -> rank (lower first)
    with closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as src:
        frequency: dict[int, int] = {}
        for idseq, mark in src.execute(_MARKS_SQL):
            frequency[idseq] = min(frequency.get(idseq, _UNMARKED), _rank(mark))
        for gloss, idseq, head in src.execute(_WORDS_SQL):
            _add(heads, gloss, head, frequency.get(idseq, _UNMARKED))
        for gloss, head in src.execute(_NAMES_SQL):
            _add(heads, gloss, head, _NAME)
    rows = [
        (gloss, "\t".join(sorted(found, key=found.__getitem__))) for gloss, found in heads.items()
    ]
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE glosses (gloss TEXT PRIMARY KEY, heads TEXT NOT NULL)")
        db.executemany("INSERT INTO glosses VALUES (?, ?)", rows)
        db.commit()


# A word's rank: its newspaper frequency band nf01-nf48 (500 words each), then its entry's
# other marks (news1, ichi1, spec1, gai1 make it "common"; the *2 lists less so), then none.
_UNMARKED, _NAME = 99, 100


def _rank(mark: str) -> int:
    if mark.startswith("nf"):
        return int(mark[2:])
    return 49 if mark.endswith("1") else 60


_MARKS_SQL = """
SELECT k.idseq, p.text FROM Kanji k JOIN KJP p ON p.kid = k.ID
UNION ALL SELECT k.idseq, p.text FROM Kana k JOIN KNP p ON p.kid = k.ID
"""
# Each sense's English glosses with its entry's first kanji spelling (its first kana one when
# it has none); then JMnedict's names the same way.
_WORDS_SQL = """
SELECT g.text, s.idseq, COALESCE(
    (SELECT text FROM Kanji WHERE idseq = s.idseq ORDER BY ID LIMIT 1),
    (SELECT text FROM Kana WHERE idseq = s.idseq ORDER BY ID LIMIT 1))
FROM SenseGloss g JOIN Sense s ON g.sid = s.ID
WHERE g.lang = 'eng' ORDER BY s.idseq, s.ID, g.rowid
"""
_NAMES_SQL = """
SELECT g.text, COALESCE(
    (SELECT text FROM NEKanji WHERE idseq = t.idseq ORDER BY ID LIMIT 1),
    (SELECT text FROM NEKana WHERE idseq = t.idseq ORDER BY ID LIMIT 1))
FROM NETransGloss g JOIN NETranslation t ON g.tid = t.ID ORDER BY t.idseq, t.ID, g.rowid
"""


def _add(heads: dict[str, dict[str, int]], gloss: str, head: str | None, rank: int) -> None:
    key = " ".join(_words(re.sub(r"\([^)]*\)", " ", gloss)))
    key = re.sub(r"^(to|a|an|the) ", "", key)
    if head and key and len(key.split()) <= _PHRASE_WORDS:
        found = heads.setdefault(key, {})
        found[head] = min(found.get(head, rank), rank)


def _words(text: str) -> list[str]:
    """Lower-case Latin words and numbers, accents dropped (Tōkyō → tokyo)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9']+", plain.lower())


def _forms(word: str) -> list[str]:
    """The word, then the base forms its ending suggests (castles → castle, built → built)."""
    return [word] + [
        word[: -len(end)] + base
        for end, base in _ENDINGS
        if word.endswith(end) and len(word) - len(end) >= 3
    ]


def _lookup(db: sqlite3.Connection, forms: list[str]) -> list[str]:
    for form in forms:
        row = db.execute("SELECT heads FROM glosses WHERE gloss = ?", (form,)).fetchone()
        if row:
            return row[0].split("\t")
    return []


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    # scikit-learn's English stop words (it comes with sentence-transformers): "what", "of"
    # and "the" would add 何, の and その to every question.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)
