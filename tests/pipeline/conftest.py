"""End-to-end pipeline fixtures: the real service over HTTP, a real job worker, provider fakes."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests.fakes.servers import serve_in_thread


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


@pytest.fixture(scope="module")
def service(pg) -> Iterator[str]:
    """The FastAPI service on a loopback port (webhooks + REST API)."""
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def api(service, make_workspace) -> Iterator[httpx.Client]:
    ws = make_workspace(f"Loja {uuid.uuid4().hex[:4]}")
    key = create_api_key(ws.workspace_id, "tests").key
    with httpx.Client(base_url=service, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        client.workspace_id = ws.workspace_id
        yield client


def webhook_path(webhook_url: str) -> str:
    """Our webhook URL as shown to the owner (PUBLIC_URL=http://testserver) -> path + query."""
    return webhook_url.removeprefix("http://testserver")
