"""The Python API: answer(), search(), build_index(), status(); the CLI and UI call only these."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import build as _build
from . import changes, llm
from .answering import Retrieved, compose
from .config import Settings
from .dictionary import load_dictionary
from .docs_folder import add_files, remove_files
from .embedding import Embedder, load_embedder
from .errors import IndexNotFound
from .index import IndexedDocument, current_generation, load_catalog
from .questions import Turn, check_question, searched_turn
from .reader import Reader, build_reader
from .search import Searcher
from .selection import Selector
from .stores import Store, open_store, titles
from .types import Answer, BuildStats, Document, Hit

log = logging.getLogger(__name__)
_searchers: dict[Path, Searcher] = {}
_searchers_lock = threading.Lock()
_readers: dict[tuple[str, Path, Path], Reader] = {}
_readers_lock = threading.Lock()


@dataclass(frozen=True)
class IndexStatus:
    """What `qa status` shows: the served generation and how it differs from the docs folder."""

    generation: str
    manifest: dict[str, Any]
    documents: list[IndexedDocument]
    titles: dict[str, str]  # by doc_id
    stale: list[str]  # human-readable reasons the index no longer matches docs or settings
    truncated: dict[str, int]  # doc_id: chunks before the cap, of documents indexed in part

    def title_of(self, entry: IndexedDocument) -> str:
        """The document's title (its doc_id if the store has none for it)."""
        return self.titles.get(entry.doc_id, entry.doc_id)

    def chunk_count(self, entry: IndexedDocument) -> str:
        """How many chunks of the document are indexed: "7", or "2 of 7" when capped."""
        total = self.truncated.get(entry.doc_id)
        return f"{entry.chunks} of {total}" if total else str(entry.chunks)

    def segments_line(self) -> str:
        """How the index is stored: "segments 3 (12,040 rows, 1,204 of them dead until a
        merge: qa build --optimize)", or "store qdrant (collection kotae-1a2b3c4d, 120 chunks)"."""
        if self.manifest.get("store") == "qdrant":
            collection, chunks = (
                self.manifest["qdrant"]["collection"],
                self.manifest["counts"]["chunks"],
            )
            return f"store qdrant (collection {collection}, {chunks:,} chunks)"
        records = self.manifest["segments"]
        rows = sum(r["rows"] for r in records)
        dead = rows - sum(r["live"] for r in records)
        line = f"segments {len(records)} ({rows:,} rows"
        if dead:
            return line + f", {dead:,} of them dead until a merge: qa build --optimize)"
        return line + ")"


@dataclass(frozen=True)
class Draft:
    """A piece of the model's text as it streams, not yet checked (generated mode only)."""

    text: str


def answer(
    question: str,
    *,
    history: Sequence[Turn] | None = None,
    k: int | None = None,
    index_dir: Path | str | None = None,
    docs_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer a question from the documents, quoting and citing them, or abstain."""
    stream = answer_stream(
        question, history=history, k=k, index_dir=index_dir, docs_dir=docs_dir, settings=settings
    )
    for item in stream:
        if isinstance(item, Answer):
            return item
    raise AssertionError("answer_stream ended without an answer")  # never: it always yields one


def answer_stream(
    question: str,
    *,
    history: Sequence[Turn] | None = None,
    k: int | None = None,
    index_dir: Path | str | None = None,
    docs_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> Iterator[Draft | Answer]:
    """`answer`, streamed: with an LLM configured (Settings.llm_url), the model's unchecked
    text in Drafts as it comes; always, last, the Answer (generated sentences only where the
    passages they cite support them; otherwise the extractive answer, with a notice)."""
    s = _settings(settings, k=k, index_dir=index_dir, docs_dir=docs_dir)
    cleaned = check_question(question, s.max_question_chars)
    embedder = _embedder(s)
    searcher = _searcher(s, embedder)
    searched, hits = searched_turn(
        cleaned,
        history,
        lambda query: searcher.search(
            query, embedder.encode_query(query), s.top_k, s.lexical_weight
        ),
    )
    found = Retrieved(hits, searcher.store.documents)
    extractive = compose(cleaned, searched, found, _reader(s, embedder), _selector(s), s)
    if not s.llm_url or not hits:
        yield extractive
        return
    yield from _generated(cleaned, history or [], found, extractive, embedder, s)


def _generated(
    question: str,
    history: Sequence[Turn],
    found: Retrieved,
    extractive: Answer,
    embedder: Embedder,
    s: Settings,
) -> Iterator[Draft | Answer]:
    """The model's answer streamed, then checked; the extractive answer when it fails."""
    prompt = llm.build_prompt(question, history, found.hits, s)
    text = ""
    try:
        for piece in llm.generate(prompt, s):
            text += piece
            yield Draft(piece)
    except llm.LLMFailure as exc:
        log.warning("generated answer unavailable: %s", exc)
        yield _noted(extractive, prompt.cut, f"{exc}: the extractive answer is shown")
        return
    result = llm.grounded(
        question,
        text,
        prompt,
        found.documents,
        lambda texts: embedder.encode_documents(texts, s.batch_size, False),
        s,
    )
    if result.text:
        yield _noted(llm.with_generated(extractive, result, s), prompt.cut, "")
        return
    why = (
        "the model found no answer in the passages"
        if result.declined
        else "no generated sentence was supported by the passages it cited"
    )
    fallback = dataclasses.replace(extractive, unsupported=result.unsupported)
    yield _noted(fallback, prompt.cut, f"{why}: the extractive answer is shown")


def _noted(a: Answer, *notes: str) -> Answer:
    return dataclasses.replace(a, notice="; ".join(n for n in notes if n))


def search(
    query: str,
    *,
    k: int | None = None,
    index_dir: Path | str | None = None,
    docs_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> list[Hit]:
    """The k passages that best match the query, best first."""
    s = _settings(settings, k=k, index_dir=index_dir, docs_dir=docs_dir)
    cleaned = check_question(query, s.max_question_chars)
    embedder = _embedder(s)
    searcher = _searcher(s, embedder)
    return searcher.search(cleaned, embedder.encode_query(cleaned), s.top_k, s.lexical_weight)


def build_index(
    *,
    full: bool = False,
    optimize: bool = False,
    progress: bool = True,
    index_dir: Path | str | None = None,
    docs_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> BuildStats:
    """Index new and changed documents of the docs folder (everything with full=True; with
    optimize=True, also merge every segment into as few as a full build writes)."""
    s = _settings(settings, index_dir=index_dir, docs_dir=docs_dir)
    return _build.build_index(s, _embedder(s), full=full, optimize=optimize, progress=progress)


def add_documents(
    paths: Sequence[Path | str],
    *,
    replace: bool = False,
    progress: bool = True,
    settings: Settings | None = None,
) -> BuildStats:
    """Copy files into the docs folder and index them (only them: the cost of adding one
    document does not grow with the index; `build_index` picks up other changes)."""
    s = settings or Settings.load()
    added = add_files(s.docs_dir, [Path(p) for p in paths], replace, s.max_document_bytes)
    return _build.build_index(s, _embedder(s), only=added, progress=progress)


def remove_documents(
    doc_ids: Sequence[str], *, progress: bool = True, settings: Settings | None = None
) -> BuildStats:
    """Delete documents from the docs folder and from the index (only them)."""
    s = settings or Settings.load()
    remove_files(s.docs_dir, list(doc_ids))
    return _build.build_index(s, _embedder(s), only=list(doc_ids), progress=progress)


def status(
    *,
    index_dir: Path | str | None = None,
    docs_dir: Path | str | None = None,
    settings: Settings | None = None,
) -> IndexStatus:
    """The served index and what is stale about it.

    Fast: reads the manifest, the catalog and the titles, and loads no model. A configured
    model whose name differs from the manifest's is reported stale; whether its weights
    differ is checked where the model is loaded anyway, when searching.
    """
    s = _settings(settings, index_dir=index_dir, docs_dir=docs_dir)
    catalog = load_catalog(s.index_dir)
    return IndexStatus(
        catalog.generation,
        catalog.manifest,
        list(catalog.entries.values()),
        titles(s, catalog),
        changes.staleness(catalog, s),
        catalog.manifest.get(changes.TRUNCATED, {}),
    )


def indexed_documents(*, settings: Settings | None = None) -> Mapping[str, Document]:
    """The documents of the served index, with their text, by doc_id."""
    s = settings or Settings.load()
    return _searcher(s, _embedder(s)).store.documents


def _settings(settings: Settings | None, **overrides: Any) -> Settings:
    base = settings or Settings.load()
    paths = {k: Path(v) for k in ("index_dir", "docs_dir") if (v := overrides.get(k)) is not None}
    return base.replace(top_k=overrides.get("k"), **paths)


def _embedder(s: Settings) -> Embedder:
    return load_embedder(s.embed_model, s.cache_dir)


def _selector(s: Settings) -> Selector:
    """The answer selector of the settings' weights file, read once per file."""
    return _selectors(s.selector_weights.resolve())


@functools.lru_cache(maxsize=8)
def _selectors(path: Path) -> Selector:
    return Selector.load(path)


def _reader(s: Settings, embedder: Embedder) -> Reader:
    """The reader over this embedder's encoder, built once per model and weights file."""
    key = (s.embed_model, s.cache_dir, s.reader_weights.resolve())
    with _readers_lock:
        if key not in _readers:
            _readers[key] = build_reader(embedder.transformer, embedder.tokenizer, key[2])
        return _readers[key]


def _searcher(s: Settings, embedder: Embedder) -> Searcher:
    """The searcher of the current generation, reloaded when a build switched the pointer."""
    key = s.index_dir.resolve()
    with _searchers_lock:
        cached = _searchers.get(key)
        dictionary = load_dictionary(s.cache_dir, s.dictionary_terms)
        if (
            cached is not None
            and cached.store.generation == current_generation(s.index_dir)
            and cached.dictionary == dictionary
        ):
            cached.store.check_model(embedder)
            return cached
        store = _open_or_build(s, embedder, cached.store if cached else None)
        store.check_model(embedder)
        _searchers[key] = Searcher(store, dictionary)
        return _searchers[key]


def _open_or_build(s: Settings, embedder: Embedder, previous: Store | None) -> Store:
    try:
        return open_store(s, previous)
    except IndexNotFound:
        _build.build_index(s, embedder, progress=False)
        return open_store(s)
