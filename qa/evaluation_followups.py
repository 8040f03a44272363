"""Follow-up questions built from a SQuAD-format file, answered as `answer()` answers them.

No Japanese conversational QA set is at hand, so conversations are made from paragraphs with
two questions that both name the article's title: the first is asked as written, then the
second with the title replaced by a pronoun ("Xの…" → "その…", "Xは…" → "それは…"), so that
only the conversation says what it is about. The title is replaced only where it stands as words
of its own followed by a particle (SudachiPy), not inside a compound ("ポルトガル人"). English
ones are written by hand (`written_conversations`). Conversations that change the subject
(`switches`) check the other side: a question that needs no earlier turn must not suffer
from one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from .answering import Retrieved, compose
from .evaluation import (
    Located,
    SquadIndex,
    SquadParagraph,
    asked_cases,
    sample_cases,
    split_of,
)
from .evaluation_answers import contains_answer
from .japanese import morphemes
from .questions import searched_turn
from .reader import build_reader
from .selection import Selector
from .types import Hit

Reading = Literal["as asked", "searched", "alone"]
_NOUNS = ("名詞", "接頭辞")
_NEGATIVE_DEPTH = 30  # passages retrieved before the gold one is left out


@dataclass(frozen=True)
class Conversation:
    """A question, then a follow-up that names its topic only by a pronoun (or, in a switch,
    one about another article that names everything it asks about)."""

    split: str
    paragraph: int  # the file's paragraph n (`SquadIndex.places[n]`: where it is indexed)
    first: str
    follow_up: str
    answers: list[str]


@dataclass(frozen=True)
class FollowUpMetrics:
    """How follow-ups of one split came out."""

    conversations: int
    contained: float  # answers holding a gold answer
    abstained: float
    negatives: int  # follow-ups asked again without their paragraph (no other holds the gold)
    negatives_answered: float


def referring(question: str, title: str) -> str | None:
    """The question with `title` replaced by a pronoun, or None where it names the title
    nowhere as words of their own before a particle.

    Example: ("コンゴ共和国の大統領選挙はいつ", "コンゴ共和国") -> "その大統領選挙はいつ"
    """
    pieces = morphemes(question)
    starts = {m.start: i for i, m in enumerate(pieces)}
    at = question.find(title)
    while at >= 0 and title:
        first = starts.get(at)
        after = starts.get(at + len(title))
        # A noun just before makes the title part of a compound ("女性落語家").
        alone = first == 0 or (first is not None and pieces[first - 1].pos[0] not in _NOUNS)
        if alone and after is not None and pieces[after].pos[0] == "助詞":
            particle = pieces[after].surface
            pronoun = "その" if particle == "の" else "それ" + particle
            return question[:at] + pronoun + question[pieces[after].end :]
        at = question.find(title, at + 1)
    return None


def conversations(
    paragraphs: list[SquadParagraph], per_split: int, splits: Iterable[str] = ("tuning", "heldout")
) -> list[Conversation]:
    """Up to `per_split` conversations per split, one per paragraph, in a seeded order."""
    order = list(range(len(paragraphs)))
    random.Random(0).shuffle(order)
    chosen: dict[str, list[Conversation]] = {split: [] for split in splits}
    for n in order:
        p = paragraphs[n]
        half = chosen.get(split_of(p.title))
        if half is None or len(half) >= per_split or len(p.title) < 2:
            continue
        naming = [i for i, q in enumerate(p.questions) if p.answers[i] and p.title in q]
        follow_ups = [(i, referring(p.questions[i], p.title)) for i in naming[1:]]
        usable = [(i, f) for i, f in follow_ups if f]
        if naming and usable:
            i, follow_up = usable[0]
            first = p.questions[naming[0]]
            half.append(Conversation(split_of(p.title), n, first, follow_up, p.answers[i]))
    return [c for split in splits for c in chosen[split]]


def written_conversations(path: Path, paragraphs: list[SquadParagraph]) -> list[Conversation]:
    """The conversations of a JSONL file (benchmarks/data/english-followups.jsonl: `title`,
    `first`, `follow_up`, `paragraph` (its number within the article), `answers`) over the
    paragraphs of the SQuAD file they were written for."""
    numbers: dict[str, list[int]] = {}
    for n, p in enumerate(paragraphs):
        numbers.setdefault(p.title, []).append(n)
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [
        Conversation(
            split_of(row["title"]),
            numbers[row["title"]][row["paragraph"]],
            row["first"],
            row["follow_up"],
            row["answers"],
        )
        for row in rows
    ]


def switches(
    paragraphs: list[SquadParagraph], per_split: int, splits: Iterable[str] = ("tuning", "heldout")
) -> list[Conversation]:
    """Conversations that change the subject: each of `sample_cases`' questions, asked after the
    next sampled question of its split that is about another article."""
    out = []
    for split in splits:
        cases = sample_cases(asked_cases(paragraphs), per_split, (split,))
        for i, case in enumerate(cases):
            others = cases[i + 1 :] + cases[:i]
            title = paragraphs[case.paragraph].title
            first = next((c for c in others if paragraphs[c.paragraph].title != title), None)
            if first:
                out.append(
                    Conversation(split, case.paragraph, first.question, case.question, case.answers)
                )
    return out


def ask_follow_ups(
    cases: list[Conversation], indexed: SquadIndex, reading: Reading = "as asked"
) -> dict[str, FollowUpMetrics]:
    """Ask each follow-up after its first question, per split, and again without its paragraph
    (the chunks that overlap it, `SquadIndex.places`) as a negative. `reading` is what the reader
    reads: the follow-up "as asked" (what `answer()` does) or the "searched" query (the first
    turn and the follow-up), the selector judging with the searched query either way; or the
    follow-up "alone", searched and read without the first turn."""
    s, embedder, searcher = indexed.settings, indexed.embedder, indexed.searcher
    reader = build_reader(embedder.transformer, embedder.tokenizer, s.reader_weights)
    selector = Selector.load(s.selector_weights)
    documents = searcher.store.documents
    rows: dict[str, list[tuple[bool, bool, bool | None]]] = {}
    for c in cases:
        gold = indexed.places[c.paragraph]

        def search(query: str, without: Located | None = None) -> list[Hit]:
            hits = searcher.search(
                query, embedder.encode_query(query), _NEGATIVE_DEPTH, s.lexical_weight
            )
            return [h for h in hits if not (without and without.holds(h))][: s.top_k]

        history = [] if reading == "alone" else [c.first]
        searched, hits = searched_turn(c.follow_up, history, search)
        asked = searched if reading == "searched" else c.follow_up
        a = compose(asked, searched, Retrieved(hits, documents), reader, selector, s)
        # Without its paragraph, the turn is searched again: what it is joined to may differ.
        searched, others = searched_turn(c.follow_up, history, partial(search, without=gold))
        negative = None
        if not any(contains_answer(h.text, c.answers) for h in others):
            asked = searched if reading == "searched" else c.follow_up
            n = compose(asked, searched, Retrieved(others, documents), reader, selector, s)
            negative = not n.abstained
        contained = not a.abstained and contains_answer(a.text, c.answers)
        rows.setdefault(c.split, []).append((contained, a.abstained, negative))
    return {split: _metrics(got) for split, got in rows.items()}


def _metrics(rows: list[tuple[bool, bool, bool | None]]) -> FollowUpMetrics:
    negatives = [answered for *_, answered in rows if answered is not None]
    return FollowUpMetrics(
        len(rows),
        sum(r[0] for r in rows) / len(rows),
        sum(r[1] for r in rows) / len(rows),
        len(negatives),
        sum(negatives) / max(1, len(negatives)),
    )
