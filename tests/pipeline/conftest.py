"""End-to-end pipeline fixtures: the real service over HTTP and provider fakes (the worker and
wait_until come from tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests.conftest import wait_until  # noqa: F401  (re-exported for the pipeline tests)
from tests.fakes.servers import serve_in_thread


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
