"""The real app in production mode (one port: pages + websocket + /auth + /api) and headless
Debian Chromium driven by Playwright. One app per test session, pointed at the test database."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.servers import free_port
from tests.fakes.smtp import FakeSmtp

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake microphone (a beep) that needs no permission prompt: the inbox records voice notes.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
# First run installs the npm packages and builds the frontend; later runs take seconds.
STARTUP_TIMEOUT_S = float(os.environ.get("BROWSER_APP_STARTUP_TIMEOUT", "600"))


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (local test server)
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    """Stop the whole process group (reflex CLI, granian and its workers)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers may outlive the leader for a moment: make sure none keeps the group alive.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[FakeSmtp, str]]:
    """The SMTP server the app is configured with (SMTP_URL): Equipe shows e-mailed invitations.
    A test that needs the e-mails sent sets the same SMTP_URL for its worker."""
    fake = FakeSmtp()
    with fake.serving() as url:
        yield fake, url


@pytest.fixture(scope="session")
def app_url(pg, smtp_server) -> Iterator[str]:
    """Base URL of the app started as `make run` starts it (`python -m runtime run`: migrations,
    demo workspace, `reflex run --env prod` on one port), pointed at the test session's database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = Path(os.environ["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "reflex-prod.log"
    env = {
        **os.environ,
        "DATABASE_URL": pg.app,
        "DATABASE_ADMIN_URL": pg.admin,
        "PUBLIC_URL": base,
        "PORT": str(port),
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "WORKER_ENABLED": "false",  # the tests run their own workers against this database
        "SMTP_URL": smtp_server[1],
    }
    env.pop("REDIS_URL", None)  # one worker, in-memory UI state
    cmd = [sys.executable, "-m", "runtime", "run", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode} while starting:\n{_tail(log_path)}")
            if _get(base + "/healthz") == 200 and _get(base + "/login") == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer within {STARTUP_TIMEOUT_S:.0f}s:\n{_tail(log_path)}")
            time.sleep(0.5)
        yield base
        # `make run` is stopped as Cloud Run and systemd stop things: SIGTERM to the launcher alone.
        # It must pass the signal on to Reflex's whole process group and exit cleanly, leaving no
        # server process behind.
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "`runtime run` has no Reflex processes"
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`runtime run` did not stop within 40 s of SIGTERM:\n{_tail(log_path)}")
        assert code == 0, f"`runtime run` exited with {code} on SIGTERM:\n{_tail(log_path)}"
        _, alive = psutil.wait_procs(children, timeout=5)
        left = [" ".join(p.cmdline())[:120] for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, f"processes of `runtime run` still running after SIGTERM: {left}"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and later tests calling asyncio.run() would fail beside it.
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def context(browser, app_url):
    ctx = browser.new_context(base_url=app_url, locale="pt-BR", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A tab whose uncaught JavaScript errors and console errors fail the test."""
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    p.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    yield p
    p.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def smtp(smtp_server, app_url, monkeypatch, fresh_settings) -> Iterator[FakeSmtp]:
    """The app's SMTP server and public URL, also for this process's job worker (which sends the
    e-mails); request `worker` too."""
    from runtime.config import get_settings

    fake, url = smtp_server
    fake.messages.clear()
    monkeypatch.setenv("SMTP_URL", url)
    monkeypatch.setenv("PUBLIC_URL", app_url)
    monkeypatch.setenv("MAIL_RETRY_BASE_SECONDS", "0.05")
    get_settings.cache_clear()
    yield fake
