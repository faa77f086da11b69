"""Status in a real browser: database, this workspace's queue (the app runs no worker in these
tests, so enqueued jobs stay pending), a channel's error, and the refresh button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from db.tenancy import tenant_session
from runtime.agent.service import create_agent
from runtime.channels import service as channels
from runtime.jobs import get_queue, job

from .helpers import login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


@job("test.status_page_probe")
def probe(payload: dict) -> None:
    """Stays queued while the page is looked at (no worker runs for the app in these tests)."""


def test_status_shows_database_queue_channel_error_and_refreshes(page: Page):
    ws, email, _ = new_owner("Pet Shop Amigo", "Lia")
    with tenant_session(ws.workspace_id) as s:
        ch = channels.create_channel(
            s,
            ws.workspace_id,
            provider="zapi",
            name="Loja Centro",
            credentials={"instance_id": "i", "token": "t", "client_token": "c"},
        )
        channels.mark_error(s, ch.id, "send failed: 401 unauthorized")
        create_agent(s, ws.workspace_id, name="Vendedor", settings={"llm": {"provider": "gemini"}})
        s.commit()
    get_queue().enqueue("test.status_page_probe", {"workspace_id": ws.workspace_id})

    login(page, email)
    open_page(page, "/status")
    expect(page.locator("#db-latency")).to_contain_text(" ms")
    expect(page.locator("#status-database-level")).to_have_attribute("data-level", "ok")
    expect(page.locator("#jobs-pending")).to_have_text("1")
    expect(page.locator("#jobs-workers")).to_contain_text("nenhum conectado")
    expect(page.locator(".status-channel-error")).to_contain_text("send failed: 401 unauthorized")
    expect(page.locator("#status-channels-level")).to_have_attribute("data-level", "error")
    expect(page.locator(".status-agent")).to_contain_text("Configuração incompleta")
    expect(page.locator("#status-overall")).to_have_text("Há problemas")
    shot(page, "status")

    get_queue().enqueue("test.status_page_probe", {"workspace_id": ws.workspace_id})
    page.locator("#status-refresh").click()
    expect(page.locator("[data-sonner-toast]", has_text="Status atualizado")).to_be_visible()
    expect(page.locator("#jobs-pending")).to_have_text("2")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#status-jobs")).to_be_visible()
    shot(page, "status_celular")
