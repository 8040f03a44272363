"""The web chat's page style and script (no Gradio here): colours from the theme's own
variables, so text keeps its contrast in the light and the dark theme alike.

The script handles the question box's counter and limits, too-large uploads, and the
answers' links: a [n] marker scrolls to its source card and highlights it, a card's number
goes back to its marker, "Sources" jumps to the panel (below the chat on a phone), and
"Copy" puts the answer as plain text (with its sources) on the clipboard. The panel shows
the latest reply's cards only; an older reply's [n] and "Sources" highlight its own quote.
"""

from __future__ import annotations

import json

from .ui_render import refusal

CSS = """
/* Set on the container, under Gradio's .dark (on <body>), so the theme's variables resolve
   to the dark values there. */
.gradio-container { --kt-accent: #4f46e5; --kt-link: #4338ca; --kt-mark: #fde68a;
  --kt-flash: #fef3c7; --kt-muted: #4b5563; --kt-text: var(--body-text-color, #1f2937);
  --kt-card: var(--block-background-fill, #fff); --kt-line: var(--border-color-primary, #e5e7eb);
  --kt-soft: var(--background-fill-secondary, #f9fafb); --kt-field: #6b7280; }
.dark .gradio-container { --kt-link: #a5b4fc; --kt-flash: #422006; --kt-muted: #b4bcc8;
  --kt-field: #9ca3af; }
/* The question box had no edge (white on near-white): a border a person can find, 3:1 or
   more against the page in both themes (WCAG 1.4.11). */
#kt-question textarea { border: 1px solid var(--kt-field) !important; border-radius: 8px; }
/* width 100%: with auto margins alone the page shrinks to its content, so a tab with little
   in it (the Documents tab before an upload) rendered narrow, then jumped wider. */
.gradio-container { width: 100% !important; max-width: 1280px !important;
  margin: 0 auto !important;
  font-family: "Noto Sans CJK JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI",
  "Meiryo", system-ui, sans-serif; }
.kt-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3em 1em; }
.kt-logo { font-size: 1.6em; font-weight: 700; color: var(--kt-link); letter-spacing: .02em;
  margin: 0; line-height: 1.3; }
.kt-tagline { color: var(--kt-muted); font-size: .95em; }
.kt-h { margin: .2em 0 .4em; font-size: 1.05em; font-weight: 600; }
#kt-chat .message, #kt-chat .prose { line-height: 1.85; font-size: 1.02em;
  overflow-wrap: anywhere; word-break: normal; line-break: strict; }
/* Gradio fades a message's text to opacity .8; the muted colours are chosen for contrast at
   full opacity (axe: #4b5563 faded on #f9fafb is 4.39:1, under the 4.5 small text needs). */
#kt-chat .prose.chatbot.md { opacity: 1; }
.kt-cite { font-weight: 700; font-size: .8em; margin: 0 .1em; border-radius: 4px; }
.kt-cite a, .kt-foot a { color: var(--kt-link) !important; text-decoration: none; }
.kt-cite a:hover, .kt-foot a:hover { text-decoration: underline; }
.kt-foot { display: flex; flex-wrap: wrap; gap: .4em 1.2em; align-items: center;
  margin-top: .4em; font-size: .85em; }
.kt-plain { display: none; }
.kt-copy { cursor: pointer; color: var(--kt-link); background: none; border: 1px solid
  var(--kt-line); border-radius: 999px; padding: .05em .8em; font: inherit; }
#kt-sources { max-height: 640px; overflow-y: auto !important; }
.kt-sources { display: flex; flex-direction: column; gap: .7em; }
.kt-src { border: 1px solid var(--kt-line); border-left: 4px solid var(--kt-accent);
  border-radius: 8px; padding: .6em .9em; background: var(--kt-card); color: var(--kt-text);
  scroll-margin: .5em; transition: background-color .3s; }
.kt-src.kt-flash, .kt-cite.kt-flash, .kt-quote.kt-flash, .kt-short.kt-flash {
  background: var(--kt-flash); }
.kt-short { font-weight: 700; font-size: 1.15em; }
.kt-note, .kt-sure { color: var(--kt-muted); font-size: .88em; }
.kt-draft { color: var(--kt-muted); font-style: italic; }
.kt-unsupported { color: var(--kt-muted); font-size: .88em; margin-top: .4em; }
.kt-unsupported summary { cursor: pointer; }
#kt-chat blockquote.kt-quote { margin: .35em 0 .1em; padding: .15em .8em; border-left: 3px solid
  var(--kt-line); color: var(--kt-text); font-size: .92em; border-radius: 0 6px 6px 0;
  transition: background-color .3s; }
.kt-quote mark, .kt-ctx mark { background: var(--kt-mark); color: #111827; padding: 0 .1em;
  border-radius: 3px; font-weight: 600; }
.kt-src header { display: flex; align-items: center; gap: .55em; }
.kt-n { flex: none; display: inline-flex; justify-content: center; align-items: center;
  min-width: 1.6em; height: 1.6em; border-radius: 999px; background: var(--kt-accent);
  color: #fff !important; font-weight: 700; font-size: .85em; text-decoration: none; }
.kt-title { font-weight: 600; flex: 1; overflow-wrap: anywhere; }
.kt-where { color: var(--kt-muted); font-size: .82em; margin: .15em 0 .3em 2.15em; }
.kt-ctx { margin: .2em 0; line-height: 1.85; font-size: .95em; color: var(--kt-text);
  overflow-wrap: anywhere; line-break: strict; white-space: pre-line; }
.kt-quoted { text-decoration: underline 2px var(--kt-accent); text-underline-offset: .3em; }
.kt-related { display: flex; flex-direction: column; gap: .7em; margin-top: .7em; }
.kt-rel { border: 1px dashed var(--kt-line); border-radius: 8px; padding: .6em .9em;
  background: var(--kt-card); color: var(--kt-text); scroll-margin: .5em; }
.kt-rel header { display: flex; align-items: center; gap: .55em; flex-wrap: wrap; }
.kt-rel-tag { flex: none; border: 1px solid var(--kt-line); border-radius: 999px;
  padding: 0 .6em; font-size: .78em; color: var(--kt-muted); }
.kt-rel .kt-where { margin-left: 0; }
.kt-src details summary, .kt-rel details summary, .kt-why summary { cursor: pointer;
  color: var(--kt-link); font-size: .85em; margin-top: .2em; }
.kt-src details[open] summary, .kt-rel details[open] summary { margin-bottom: .2em; }
.kt-why { margin-top: .6em; color: var(--kt-muted); }
.kt-details dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em .8em;
  margin: .2em 0; font-size: .8em; color: var(--kt-muted); font-variant-numeric: tabular-nums; }
.kt-details dd { margin: 0; overflow-wrap: anywhere; }
.kt-empty { color: var(--kt-muted); border: 1px dashed var(--kt-line); border-radius: 8px;
  padding: 1em; line-height: 1.8; text-align: center; }
.kt-abstain { text-align: left; border-style: solid; background: var(--kt-soft); }
.kt-searched { color: var(--kt-muted); font-size: .85em; margin: 0 0 .6em; }
.kt-reason { font-size: .8em; margin-top: .4em; }
.kt-busy { animation: kt-pulse 1.4s ease-in-out infinite; }
@keyframes kt-pulse { 50% { opacity: .45; } }
.kt-status dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em .9em;
  margin: .5em 0; }
#kt-docs table, #kt-docs th, #kt-docs td, #kt-docs span { font-family: inherit !important; }
#kt-docs-row, #kt-docs-row > .column { width: 100%; }
#kt-docs-row > .column:first-child { flex: 3 1 340px; }
#kt-docs-row > .column:last-child { flex: 2 1 300px; }
.kt-status dt { color: var(--kt-muted); }
.kt-status dd { margin: 0; overflow-wrap: anywhere; }
.kt-status ul { margin: .3em 0 0 1.2em; font-size: .9em; }
.kt-badge { display: inline-block; border-radius: 999px; padding: .1em .7em; font-size: .85em;
  font-weight: 600; }
.kt-fresh { background: #dcfce7; color: #166534; }
.kt-stale { background: #fef3c7; color: #92400e; }
.kt-notice { border-radius: 6px; padding: .45em .8em; margin: .3em 0; font-size: .92em; }
.kt-info { background: #eef2ff; color: #3730a3; }
.kt-ok { background: #dcfce7; color: #166534; }
.kt-error { background: #fee2e2; color: #991b1b; }
.kt-docline { color: var(--kt-text); font-size: .9em; margin: 0 0 .2em; overflow-wrap: anywhere; }
.kt-docline-none { color: #b45309; }
.kt-count { text-align: right; color: var(--kt-muted); font-size: .85em;
  font-variant-numeric: tabular-nums; }
.kt-count.kt-over { color: #dc2626; font-weight: 600; }
#kt-confirm { border: 1px solid #fca5a5; border-radius: 8px; padding: .5em .8em; }
@media (max-width: 640px) {
  .kt-logo { font-size: 1.3em; }
  #kt-sources { max-height: none; }
}
"""


def page_js(limit: int, upload_bytes: int) -> str:
    """The page script. The question box: a character counter from 80% of `limit`, and
    sending refused in the browser when the box is blank (nothing happens) or over `limit`
    (the counter says why); the server ignores both too (see ui.respond). Uploads: a file
    over `upload_bytes` (which the server would refuse whole) is left out in the browser and
    named in #kt-upload-note, worded as `refusal` words it; the others are uploaded."""
    too_large = refusal("NAME", f"larger than {upload_bytes:,} bytes")
    return (
        _PAGE_JS.replace("LIMIT_CHARS", str(int(limit)))
        .replace("UPLOAD_BYTES", str(int(upload_bytes)))
        .replace("TOO_LARGE", json.dumps(too_large, ensure_ascii=False))
    )


_PAGE_JS = """() => {
  const LIMIT = LIMIT_CHARS, WARN = Math.floor(LIMIT * 0.8);
  const box = () => document.querySelector('#kt-question textarea');
  const fmt = (n) => n.toLocaleString('en-US');
  const update = () => {
    const b = box(), out = document.querySelector('#kt-count');
    if (!b || !out) return;
    const n = [...b.value].length, over = n > LIMIT;
    out.hidden = n < WARN;
    out.classList.toggle('kt-over', over);
    out.textContent = `${fmt(n)} / ${fmt(LIMIT)}` + (over
      ? ` — 長すぎます。${fmt(LIMIT)}文字以内にしてください。`
        + ` Too long: please shorten it to ${fmt(LIMIT)} characters.`
      : '');
  };
  const refuse = (e) => {
    const b = box();
    if (!b || (b.value.trim() && [...b.value].length <= LIMIT)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    update();
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing
        && e.target.closest && e.target.closest('#kt-question')) refuse(e);
  }, true);
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#kt-ask')) refuse(e);
  }, true);
  document.addEventListener('input', update, true);
  // Gradio names the upload area "Click to upload or drop files" over its visible "Drop File
  // Here - or - Click to Upload"; a name that differs from the visible words misleads speech
  // control users (axe: label-content-name-mismatch), so the visible words name it.
  const unname = () => document.querySelectorAll('#kt-upload button[aria-label]')
    .forEach((b) => b.removeAttribute('aria-label'));
  setInterval(() => { update(); unname(); }, 400);

  const note = (big) => {
    const out = document.querySelector('#kt-upload-note');
    if (!out) return;
    out.replaceChildren(...big.map((f) => {
      const line = document.createElement('div');
      line.className = 'kt-notice kt-error';
      line.textContent = TOO_LARGE.replaceAll('NAME', f.name);
      return line;
    }));
  };
  const sizes = (files, e) => {
    const all = [...(files || [])], big = all.filter((f) => f.size > UPLOAD_BYTES);
    note(big);
    if (big.length && big.length === all.length) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
    return all.filter((f) => f.size <= UPLOAD_BYTES);
  };
  document.addEventListener('change', (e) => {
    const input = e.target;
    if (!(input.closest && input.closest('#kt-upload') && input.files)) return;
    const ok = sizes(input.files, e);
    if (ok.length && ok.length < input.files.length) {
      const keep = new DataTransfer();
      ok.forEach((f) => keep.items.add(f));
      input.files = keep.files;
    }
  }, true);
  document.addEventListener('drop', (e) => {
    if (!(e.target.closest && e.target.closest('#kt-upload') && e.dataTransfer)) return;
    const all = [...e.dataTransfer.files];
    if (sizes(all, e).length < all.length) {  // a drop cannot be edited: refuse it whole
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // Answers' links: [n] -> its card, a card's number -> its marker, Sources -> the panel.
  const flash = (el) => {
    el.classList.remove('kt-flash');
    void el.offsetWidth;
    el.classList.add('kt-flash');
    clearTimeout(el.ktFlash);
    el.ktFlash = setTimeout(() => el.classList.remove('kt-flash'), 2500);
  };
  const show = (el, e, block) => {
    e.preventDefault();
    e.stopImmediatePropagation();
    el.scrollIntoView({ block, behavior: 'smooth' });
    flash(el);
  };
  const copied = (button, ok) => {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = ok ? 'コピーしました / Copied' : 'コピーできません / Copy failed';
    setTimeout(() => { button.textContent = label; }, 2000);
  };
  const copyText = (text) => {  // the clipboard API needs a secure page; else the old way
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error('copy'));
  };
  // An older reply's cards are gone from the panel: its links show its own quote instead
  // (or its short answer, when that is the whole quote).
  const ownQuote = (link) => {
    const reply = link.closest('.message, [data-testid="bot"]');
    return reply && (reply.querySelector('.kt-quote') || reply.querySelector('.kt-short'));
  };
  const stop = (e) => {
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!(t && t.closest)) return;
    const cite = t.closest('.kt-cite a'), back = t.closest('a.kt-n');
    const jump = t.closest('a.kt-jump'), copy = t.closest('button.kt-copy');
    const link = cite || jump;
    if (link) {
      const target = document.getElementById(link.getAttribute('href').slice(1));
      const panel = document.querySelector('#kt-sources-col'), quote = ownQuote(link);
      if (target && cite) show(target, e, 'nearest');
      else if (target && panel) show(panel, e, 'start');
      else if (quote) show(quote, e, 'nearest');
      else stop(e);
    } else if (back) {
      const card = back.closest('.kt-src'), marks = card ? document.querySelectorAll(
        `#kt-chat .kt-cite a[href="#${card.id}"]`) : [];
      if (marks.length) show(marks[marks.length - 1].closest('.kt-cite'), e, 'center');
    } else if (copy) {
      stop(e);
      const plain = copy.parentElement.querySelector('.kt-plain');
      copyText(plain ? plain.textContent : '')
        .then(() => copied(copy, true), () => copied(copy, false));
    }
  }, true);
}"""
