"""`python -m runtime`: real subprocesses against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from runtime.auth.api_keys import authenticate_api_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def cli(pg):
    env = {**os.environ, "DATABASE_URL": pg.app, "DATABASE_ADMIN_URL": pg.admin, "PYTHONWARNINGS": "ignore"}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "runtime", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_no_command_and_unknown_command_fail_with_usage(cli):
    r = cli()
    assert r.returncode == 2 and "usage:" in r.stderr
    r = cli("explode")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_workspace_create_missing_arguments(cli):
    r = cli("workspace", "create", "--name", "X")
    assert r.returncode == 2 and "--owner-email" in r.stderr


def test_workspace_create_prints_id_and_working_api_key(cli):
    email = f"cli-{uuid.uuid4().hex[:6]}@example.com"
    r = cli("workspace", "create", "--name", "Imobiliária Sol", "--owner-email", email, "--password", "senha-forte-123")
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
    principal = authenticate_api_key(lines["api_key"])
    assert principal is not None and str(principal.workspace_id) == lines["workspace_id"]

    again = cli("workspace", "create", "--name", "Y", "--owner-email", email, "--password", "senha-forte-123")
    assert again.returncode == 1 and "Já existe" in again.stderr and "Traceback" not in again.stderr


def test_workspace_create_bad_input_is_a_clear_error(cli):
    r = cli("workspace", "create", "--name", "Z", "--owner-email", "nao-email", "--password", "senha-forte-123")
    assert r.returncode == 1 and "E-mail inválido" in r.stderr
    r = cli("workspace", "create", "--name", "Z", "--owner-email", "ok@example.com", "--password", "123")
    assert r.returncode == 1 and "8 caracteres" in r.stderr


def test_migrate_is_idempotent(cli):
    r = cli("migrate")
    assert r.returncode == 0, r.stderr
    assert "revision" in r.stdout


def test_seed_demo_creates_once(cli):
    first = cli("seed-demo")
    second = cli("seed-demo")
    assert first.returncode == 0 and second.returncode == 0
    assert "demo@example.com" in first.stdout
    assert "already exists" in second.stdout
    from runtime.auth import accounts, email_verification

    assert email_verification.is_verified(accounts.find_user_id("demo@example.com"))  # no notice to confirm it


def test_serve_answers_on_the_given_port_and_stops_on_sigint(pg):
    """The separate webhook/API service: `python -m runtime serve --port N`."""
    import signal
    import time

    import httpx

    from tests.fakes.servers import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg.app, "DATABASE_ADMIN_URL": pg.admin, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert r.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/workspace").status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


def test_bench_ingest_runs_and_accounts_for_every_message(cli):
    """The benchmark itself (figures in the README come from a bigger run of it)."""
    import json

    r = cli("bench", "ingest", "-n", "300", "--concurrency", "16", "--workers", "1")
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout[r.stdout.index("{") :])
    assert result["posted"] == 300 and result["unique_messages"] == 240
    assert (result["stored"], result["lost"], result["duplicated"], result["http_errors"]) == (240, 0, 0, 0)
    assert result["turn_jobs_queued"] == 240


def test_bench_rejects_bad_arguments(cli):
    r = cli("bench", "ingest", "--duplicates", "1.5")
    assert r.returncode == 1 and "duplicates" in r.stderr


def test_chat_with_an_agent_in_the_terminal(cli, make_workspace):
    """`python -m runtime chat --agent A` with LLM provider none: rules and extractive answers."""
    from pathlib import Path

    from db.tenancy import tenant_session
    from runtime.agent.service import create_agent
    from runtime.knowledge.documents import add_document, ingest_document

    ws = make_workspace("Terminal").workspace_id
    md = Path(__file__).resolve().parent / "data" / "company" / "sobre-nos.md"
    with tenant_session(ws) as s:
        doc = add_document(s, ws, filename=md.name, data=md.read_bytes()).document.id
        agent = create_agent(s, ws, name="Sofia", settings={"llm": {"provider": "none"}})
        s.commit()
    assert ingest_document(ws, doc) == "ready"
    r = cli("chat", "--agent", str(agent.id), stdin="oi\ntem estacionamento?\n/sair\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "rota=rules" in r.stdout and "intenção=greeting" in r.stdout
    assert "rota=extractive" in r.stdout and "sobre-nos.md" in r.stdout
    bad = cli("chat", "--agent", "nao-e-uuid")
    assert bad.returncode == 1 and "uuid" in bad.stderr


def _postgres_running(data_dir) -> list[int]:
    """Pids of postgres servers whose data directory is under `data_dir`."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.info.get("name") == "postgres" and str(data_dir) in cmdline:
            found.append(proc.pid)
    return found


def test_sigterm_stops_worker_and_serve_and_the_embedded_postgres_they_started():
    """No DATABASE_URL: the process starts its own PostgreSQL under DATA_DIR. SIGTERM (what Cloud Run
    and systemd send) must stop the process gracefully and that server with it, also after an
    earlier holder of the server was killed with SIGKILL (it never removed itself)."""
    import shutil
    import signal
    import time

    import httpx

    from tests.fakes.servers import free_port

    data = Path(ROOT) / ".data" / f"sigterm-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_ADMIN_URL")}
    env.update(DATA_DIR=str(data), PYTHONWARNINGS="ignore", WORKER_GRACE_SECONDS="2")

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "runtime", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_for(predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "condition not met"
            time.sleep(0.2)

    try:
        assert (
            subprocess.run([sys.executable, "-m", "runtime", "migrate"], cwd=ROOT, env=env, timeout=120).returncode == 0
        )
        assert _postgres_running(data) == []  # migrate started and stopped it

        worker = start("worker")
        wait_for(lambda: _postgres_running(data))
        time.sleep(3)  # the worker is up and consuming
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.stdout.read().decode()
        wait_for(lambda: not _postgres_running(data), timeout=10)

        port = free_port()
        serve = start("serve", "--host", "127.0.0.1", "--port", str(port), "--quiet")

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0, serve.stdout.read().decode()
        wait_for(lambda: not _postgres_running(data), timeout=10)

        crashed = start("worker")
        wait_for(lambda: _postgres_running(data))
        time.sleep(2)
        crashed.kill()  # SIGKILL: no chance to stop the server or to forget itself as its holder
        crashed.wait(timeout=10)
        assert _postgres_running(data)
        again = start("worker")
        time.sleep(4)
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=30) == 0, again.stdout.read().decode()
        wait_for(lambda: not _postgres_running(data), timeout=10)
    finally:
        for pid in _postgres_running(data):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def test_serve_keeps_url_secrets_out_of_its_access_log(pg):
    """The Evolution/Z-API webhook secret may travel in the URL (?secret=): the access log prints
    the request line with it masked."""
    import signal
    import time

    import httpx

    from tests.fakes.servers import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg.app, "DATABASE_ADMIN_URL": pg.admin, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        hook = f"http://127.0.0.1:{port}/webhooks/evolution/{uuid.uuid4()}?secret=s3gredo-do-canal&x=1"
        assert httpx.post(hook, json={}).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    assert "/webhooks/evolution/" in out and "secret=***&x=1" in out
    assert "s3gredo-do-canal" not in out
