"""How the web chat words a refusal: what was looked for and not found, in the question's
language and in words (no scores, no thresholds), with the passages that were read offered as
"related" cards and the developer's reason behind a toggle."""

from __future__ import annotations

import html
from collections.abc import Mapping

from .japanese import asked_topic, has_cjk
from .types import Answer, Document
from .ui_cards import related_cards

RELATED_SHOWN = 3  # related passages offered with a refusal
QUESTION_QUOTED = 60  # characters of a question quoted back in a refusal
SEE_RELATED = {
    "ja": "近い内容の箇所を出典欄に「関連」として示します。",
    "en": "The closest passages are in the sources panel, marked “Related”.",
}
CLOSEST = {"ja": "近い内容:", "en": "Closest passages:"}


def language(answer: Answer) -> str:
    """The language a reply speaks: "ja" for a question in Japanese script, else "en"."""
    return "ja" if has_cjk(answer.question) else "en"


def not_found(question: str) -> str:
    """What was looked for and not found, in the question's language.

    Example: "2007年の売上高はいくらですか？" -> "資料には2007年の売上高についての記述が
    見つかりませんでした。"; "Who gave the talk?" -> "The documents say nothing that answers
    “Who gave the talk”."
    """
    if has_cjk(question):
        topic = asked_topic(question)
        if topic:
            return f"資料には{topic}についての記述が見つかりませんでした。"
        return f"資料には「{_quoted(question)}」への答えが見つかりませんでした。"
    return f"The documents say nothing that answers “{_quoted(question)}”."


def refusal_text(answer: Answer) -> str:
    """A refusal as a person reads it in the chat, pointing at the related passages if any.

    Example: "こんにちは" -> "資料には「こんにちは」への答えが見つかりませんでした。近い内容の…"
    """
    lang = language(answer)
    said = not_found(answer.question)
    if not answer.related:
        return said
    return said + ("" if lang == "ja" else " ") + SEE_RELATED[lang]


def refused_html(answer: Answer, docs: Mapping[str, Document], turn: int) -> str:
    """The sources panel of a refusal: what was not found, then the related cards."""
    lang = language(answer)
    related = related_cards(answer.related, docs, turn, RELATED_SHOWN) if answer.abstained else []
    closest = f" {CLOSEST[lang]}" if related else ""
    cards = f"<div class='kt-related'>{''.join(related)}</div>" if related else ""
    why = ""
    if answer.reason:
        why = (
            "<details class='kt-why'><summary>詳細 / Details</summary>"
            f"<p class='kt-reason'>{html.escape(answer.reason)}</p></details>"
        )
    said = html.escape(not_found(answer.question))
    head = f"<div class='kt-empty kt-abstain' lang='{lang}'><b>{said}</b>{closest}</div>"
    return head + cards + why


def _quoted(question: str) -> str:
    """The question as quoted back: its closing question mark dropped, long ones cut."""
    text = " ".join(question.split()).rstrip("?？。.!！")
    return text if len(text) <= QUESTION_QUOTED else text[: QUESTION_QUOTED - 1] + "…"
