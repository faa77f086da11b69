"""Shared fixtures: one real embedded PostgreSQL per test session, migrated from empty."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / ".data" / f"test-{os.getpid()}"

# Settings are read from the environment: pin everything a test run depends on.
os.environ.setdefault("APP_ENV", "test")
os.environ["DATA_DIR"] = str(TEST_DATA)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("DATABASE_ADMIN_URL", None)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("PUBLIC_URL", "http://testserver")
os.environ.setdefault("LOGIN_MAX_ATTEMPTS_PER_IP", "500")  # every test client shares one address
os.environ.setdefault("SEND_RETRY_BASE_SECONDS", "0.05")  # retries back off in tens of ms, not seconds
# Provider fakes, pages and model servers listen on loopback; SSRF tests narrow this themselves.
os.environ.setdefault("EGRESS_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8,::1/128")
os.environ.setdefault("EMBEDDING_PROVIDER", "none")
os.environ.setdefault("TTS_RETRY_BASE_SECONDS", "0.05")
os.environ.setdefault("STT_PROVIDER", "none")  # tests that transcribe choose their model
os.environ.setdefault("JOB_RETRY_BASE_SECONDS", "0.05")  # a failed job's retries come in tens of ms


@pytest.fixture(scope="session")
def pg() -> Iterator:
    """The embedded server's URLs (admin + app role), with the schema migrated from empty."""
    from db import migrate
    from db.embedded import start_embedded, stop_embedded
    from db.engine import set_database_urls

    TEST_DATA.mkdir(parents=True, exist_ok=True)
    urls = start_embedded(TEST_DATA / "postgres", "piloto_app", cleanup_mode="delete")
    set_database_urls(urls)
    migrate.upgrade()
    yield urls
    from db.engine import admin_engine, app_engine

    app_engine().dispose()
    admin_engine().dispose()
    stop_embedded(TEST_DATA / "postgres")  # before the data folder is removed


@pytest.fixture(scope="session", autouse=True)
def _cleanup_test_data() -> Iterator[None]:
    yield
    shutil.rmtree(TEST_DATA, ignore_errors=True)


@pytest.fixture
def workspace(pg):
    """A fresh workspace with an owner; returns (NewWorkspace, email, password)."""
    from runtime.auth.accounts import create_workspace

    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    password = "senha-forte-123"
    ws = create_workspace("Loja Teste", email, password, owner_name="Dona Maria")
    return ws, email, password


@pytest.fixture
def make_workspace(pg):
    from runtime.auth.accounts import create_workspace

    def _make(name: str = "Empresa"):
        email = f"u-{uuid.uuid4().hex[:8]}@example.com"
        return create_workspace(name, email, "senha-forte-123")

    return _make


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def worker(pg) -> Iterator[None]:
    """The pgqueuer worker, in its own thread and event loop, for this module's tests."""
    from runtime.jobs import run_worker

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_worker(stop, concurrency=8, poll_seconds=0.5))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.5)
    yield
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=15)


@pytest.fixture
def fresh_settings(monkeypatch) -> Iterator[None]:
    """For tests that change settings through the environment: settings are cached, so they are
    dropped after the environment is restored (not before, when another thread could re-read it)."""
    yield
    monkeypatch.undo()
    from runtime.config import get_settings

    get_settings.cache_clear()


@pytest.fixture
def smtp(monkeypatch, fresh_settings):
    """A real SMTP server (aiosmtpd) on loopback as SMTP_URL, with fast retries."""
    from runtime.config import get_settings
    from tests.fakes.smtp import FakeSmtp

    fake = FakeSmtp()
    with fake.serving() as url:
        monkeypatch.setenv("SMTP_URL", url)
        monkeypatch.setenv("MAIL_FROM", "Piloto <convites@piloto.example>")
        monkeypatch.setenv("MAIL_MAX_ATTEMPTS", "3")
        monkeypatch.setenv("MAIL_RETRY_BASE_SECONDS", "0.05")
        get_settings.cache_clear()
        yield fake


@pytest.fixture(scope="module")
def discard_jobs_queued_here(pg) -> Iterator[None]:
    """For fuzz tests: jobs their requests queue (turns, sends, URL fetches) are deleted at the end of
    the module, so no later worker ever runs one (and no generated URL is ever fetched)."""
    from sqlalchemy import text

    from db.engine import admin_engine

    with admin_engine().connect() as conn:
        started = conn.execute(text("SELECT now()")).scalar_one()
    yield
    with admin_engine().begin() as conn:
        conn.execute(text("DELETE FROM pgqueuer WHERE created >= :t"), {"t": started})
