"""The web chat's Documents tab: what is indexed; add, replace and delete documents; rebuild.

Every change goes through the public API (`add_documents(..., replace=True)`,
`remove_documents`, `build_index`), one at a time in the queue's "index" group, and ends
with the same one-line summary as the CLI. Replacing a same-named document and deleting one
each wait for a confirmation; what waits is kept server-side in a session State, never taken
back from the browser. Uploads that cannot be used are refused one by one, with the reason.
"""

from __future__ import annotations

import filecmp
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from . import api
from . import ui_render as render
from .config import Settings
from .documents import load_document
from .errors import IndexNotFound
from .formats import SUFFIXES, Unextractable
from .types import BuildStats

DOC_HEADERS = ["Title / 題名", "ID", "Chunks", "Indexed / 登録日時"]
NO_INDEX = "まだ索引がありません。No index yet: click Rebuild index."
CANCELLED = "取り消しました。何も変更していません。 Cancelled: nothing was changed."
PICK_FIRST = "削除する資料を選んでください。 Choose the document to delete first."
_PROGRESS = gr.Progress(track_tqdm=True)  # Gradio injects the live tracker in its place
Updates = dict[Any, Any]


def documents_tab(settings: Settings, doc_line: gr.HTML) -> tuple[Callable[[], Updates], list]:
    """Lay out the tab; returns the refresh function and its outputs (for load and select)."""
    tab = _DocumentsTab(settings, doc_line)
    return tab.view, tab.shown


class _DocumentsTab:
    """The tab's components and its event handlers (each returns {component: new value})."""

    def __init__(self, settings: Settings, doc_line: gr.HTML) -> None:
        self.settings, self.doc_line = settings, doc_line
        self._layout()
        self.shown = [self.status_box, self.table, self.picker, doc_line]
        outputs = [self.notice, self.upload, self.confirm_box, self.question, self.yes]
        outputs += [self.pending, *self.shown]
        # One change at a time, in its own group: a rebuild never holds up questions' slots.
        private: dict[str, Any] = {"api_visibility": "private", "concurrency_id": "index"}
        self.upload.upload(self.stage, [self.upload], outputs, **private, concurrency_limit=1)
        self.rebuild.click(self.build, [self.full], outputs, **private, concurrency_limit=1)
        self.yes.click(self.confirmed, [self.pending], outputs, **private, concurrency_limit=1)
        self.delete.click(self.delete_asked, [self.picker], outputs, api_visibility="private")
        self.no.click(self.cancelled, None, outputs, api_visibility="private")

    def _layout(self) -> None:
        with gr.Row(equal_height=False, elem_id="kt-docs-row"):
            with gr.Column(scale=3, min_width=340):
                gr.HTML("<h2 class='kt-h'>索引済みの資料 / Indexed documents</h2>")
                self.table = gr.Dataframe(
                    headers=DOC_HEADERS, datatype=["str", "str", "str", "str"],
                    interactive=False, wrap=True, elem_id="kt-docs",
                    column_widths=["40%", "30%", "10%", "20%"],
                )  # fmt: skip
                with gr.Row(equal_height=True):
                    self.picker = gr.Dropdown(
                        choices=[], label="削除する資料 / Document to delete", scale=4,
                        elem_id="kt-delete-pick",
                    )  # fmt: skip
                    self.delete = gr.Button(
                        "削除… / Delete…", scale=1, elem_id="kt-delete", min_width=110
                    )
            with gr.Column(scale=2, min_width=300):
                gr.HTML("<h2 class='kt-h'>索引の状態 / Index status</h2>")
                self.status_box = gr.HTML(elem_id="kt-status")
                limit = self.settings.max_upload_bytes // 1000
                self.upload = gr.File(
                    file_count="multiple", elem_id="kt-upload",  # any type: refused with why
                    label=f"追加 / Add {', '.join(SUFFIXES)} files (≤ {limit:,} kB each)",
                )  # fmt: skip
                # Files too large to upload, named by the page script (render.page_js).
                gr.HTML("<div id='kt-upload-note' aria-live='polite'></div>")
                with gr.Column(visible=False, elem_id="kt-confirm") as self.confirm_box:
                    self.question = gr.HTML(elem_id="kt-confirm-text")
                    with gr.Row():
                        self.yes = gr.Button("はい / Yes", variant="stop", elem_id="kt-confirm-yes")
                        self.no = gr.Button("キャンセル / Cancel", elem_id="kt-confirm-no")
                self.full = gr.Checkbox(label="Re-embed everything (full rebuild)", value=False)
                self.rebuild = gr.Button(
                    "索引を再構築 / Rebuild index", variant="primary", elem_id="kt-rebuild"
                )
                self.notice = gr.HTML(elem_id="kt-notice")
        # The change awaiting confirmation: ("replace", paths, refused) or ("delete", id, []).
        self.pending = gr.State(None)

    def view(self) -> Updates:
        """The index as it is now: status, table, delete choices and the chat's line."""
        try:
            status = api.status(settings=self.settings)
        except IndexNotFound:
            return {self.status_box: render.notice_html(NO_INDEX), self.table: [],
                    self.picker: gr.Dropdown(choices=[], value=None),
                    self.doc_line: render.documents_line_html(None)}  # fmt: skip
        except Exception as exc:
            error = render.notice_html(render.friendly(exc), "error")
            return {self.status_box: error, self.table: []}
        docs = sorted(status.documents, key=lambda d: d.doc_id)
        choices = [(f"{status.title_of(d)} ({d.doc_id})", d.doc_id) for d in docs]
        return {
            self.status_box: render.status_html(status),
            self.table: render.document_rows(status),
            self.picker: gr.Dropdown(choices=choices, value=None),
            self.doc_line: render.documents_line_html([status.title_of(d) for d in docs]),
        }

    def _after(self, change: Callable[[], BuildStats], refused: list[str]) -> Updates:
        """Run one index change; then the summary, the refusals and the fresh view."""
        return {self.notice: change_notice(change, refused), self.upload: None,
                self.confirm_box: gr.Column(visible=False), self.pending: None,
                **self.view()}  # fmt: skip

    def _ask(self, text: str, action: str, what: tuple[Any, ...]) -> Updates:
        return {self.notice: _refused(what[2]), self.confirm_box: gr.Column(visible=True),
                self.question: f"<p>{text}</p>", self.yes: gr.Button(value=action),
                self.pending: what}  # fmt: skip

    def stage(self, uploads: list[str] | None, progress: gr.Progress = _PROGRESS) -> Updates:
        """Check each upload; add the usable ones, asking first before replacing any."""
        refused, usable = [], []
        for path in map(Path, uploads or []):
            reason = _unusable(path, self.settings)
            if reason:
                refused.append(render.refusal(path.name, reason))
            else:
                usable.append(str(path))
        clashes = [Path(p).name for p in usable if _replaces(Path(p), self.settings.docs_dir)]
        if clashes:
            text = (
                "、".join(f"「{html.escape(n)}」" for n in clashes) + "は既にあります。"
                f"置き換えますか？ {html.escape(', '.join(clashes))}: a document with this "
                "name exists. Replace it with the uploaded file?"
            )
            return self._ask(text, "置き換える / Replace", ("replace", usable, refused))
        if not usable:
            return {self.notice: _refused(refused), self.upload: None}
        progress(0, desc="Indexing…")
        add = lambda: api.add_documents(usable, replace=True, settings=self.settings)  # noqa: E731
        return self._after(add, refused)

    def delete_asked(self, doc_id: str | None) -> Updates:
        """Ask before deleting the chosen document."""
        if not doc_id:
            return {self.notice: render.notice_html(PICK_FIRST, "error")}
        doc = html.escape(doc_id)
        text = (
            f"「{doc}」を資料フォルダと索引から削除しますか？ "
            f"Delete {doc} from the docs folder and the index?"
        )
        return self._ask(text, "削除する / Delete", ("delete", doc_id, []))

    def confirmed(
        self, what: tuple[str, Any, list[str]] | None, progress: gr.Progress = _PROGRESS
    ) -> Updates:
        """Do what was confirmed: the replacing upload or the deletion."""
        if not what:  # nothing waits (already done, or cancelled)
            return {self.confirm_box: gr.Column(visible=False)}
        action, target, refused = what
        progress(0, desc="Indexing…")
        if action == "delete":
            remove = lambda: api.remove_documents([target], settings=self.settings)  # noqa: E731
            return self._after(remove, [])
        add = lambda: api.add_documents(target, replace=True, settings=self.settings)  # noqa: E731
        return self._after(add, refused)

    def cancelled(self) -> Updates:
        """Drop what waited for confirmation."""
        return {self.notice: render.notice_html(CANCELLED), self.upload: None,
                self.confirm_box: gr.Column(visible=False), self.pending: None}  # fmt: skip

    def build(self, full: bool, progress: gr.Progress = _PROGRESS) -> Updates:
        """Index new and changed files of the docs folder (everything when `full`)."""
        progress(0, desc="Indexing…")
        rebuild = lambda: api.build_index(full=full, settings=self.settings)  # noqa: E731
        return self._after(rebuild, [])


def change_notice(change: Callable[[], BuildStats], refused: list[str]) -> str:
    """Run one index change: its summary, the refused uploads, or the error, as HTML."""
    try:
        return render.build_html(change(), refused)
    except Exception as exc:
        return render.notice_html(render.friendly(exc), "error") + _refused(refused)


def _refused(refused: list[str]) -> str:
    return render.notices_html([("error", r) for r in refused])


def _unusable(path: Path, settings: Settings) -> str | None:
    """Why an uploaded file cannot be added (as render.refusal words it), or None."""
    if path.suffix.lower() not in SUFFIXES:
        return "unsupported type"
    try:
        load_document(path, path.name, settings.max_upload_bytes)
    except Unextractable as exc:
        return str(exc)
    return None


def _replaces(upload: Path, docs_dir: Path) -> bool:
    """Whether adding `upload` would overwrite a different document of the same name."""
    target = docs_dir / upload.name
    return target.is_file() and not filecmp.cmp(upload, target, shallow=False)
