"""A send whose fate is unknown (the provider had the request when its answer timed out) shows
in the seller's thread as not confirmed, says what to check, and is re-sent only when the
seller asks. Real send path to a local Graph fake that holds the answer."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from db.models import Message
from db.tenancy import tenant_session
from runtime.agent.service import create_agent
from runtime.channels.service import ChannelSettings, create_channel
from runtime.pipeline.inbound import ChannelRef
from runtime.pipeline.outbound import send_queued
from tests.fakes import cloud_api as meta
from tests.fakes.servers import serve_in_thread
from tests.followups.conftest import Lead

from ..conftest import wait_until
from .helpers import login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


def _lead(ws, graph) -> Lead:
    with tenant_session(ws.workspace_id) as s:
        agent = create_agent(s, ws.workspace_id, name="Sofia", mode="off")
        channel = create_channel(
            s,
            ws.workspace_id,
            provider="cloud_api",
            name="WhatsApp da loja",
            credentials={
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": "s",
                "verify_token": "v",
            },
            api_base_url=graph.base_url,
            agent_id=agent.id,
        )
        ref = ChannelRef(
            id=channel.id,
            workspace_id=ws.workspace_id,
            provider="cloud_api",
            settings=ChannelSettings.from_config(channel.config),
            agent_id=agent.id,
        )
        s.commit()
    return Lead(ws.workspace_id, ref, agent.id)


def test_an_unconfirmed_send_is_shown_and_resent_only_by_the_seller(
    page: Page, graph, worker, monkeypatch, fresh_settings
):
    from runtime.config import get_settings

    monkeypatch.setenv("SEND_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    ws, owner_email, _ = new_owner(company="Ótica Visão", name="Rui Lima")
    lead = _lead(ws, graph)
    lead.writes("Vocês fazem exame de vista?")
    graph.delay_next(3)  # Graph gets the request and answers too late
    lead.we_reply("Fazemos sim! Quer agendar?")

    def outbound() -> Message | None:
        with tenant_session(ws.workspace_id) as s:
            return s.exec(
                select(Message).where(Message.conversation_id == lead.conversation_id, Message.direction == "outbound")
            ).first()

    wait_until(lambda: outbound() and outbound().status == "unknown", timeout=20)

    login(page, owner_email)
    open_page(page, "/inbox")
    page.locator(".conversation-row").first.click()
    message = page.locator(".message[data-status=unknown]")
    expect(message).to_contain_text("Fazemos sim! Quer agendar?")
    expect(message.locator(".send-unknown-note")).to_contain_text("Envio não confirmado")
    expect(message.locator(".send-unknown-note")).to_contain_text("antes de reenviar")
    shot(page, "inbox_send_unknown")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(message.locator(".send-unknown-retry")).to_be_visible()
    shot(page, "inbox_send_unknown_390")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert len([r for r in graph.sent if (r.json or {}).get("to") == lead.phone.lstrip("+")]) == 1

    message.locator(".send-unknown-retry").click()
    expect(page.locator(".message[data-status=sent]", has_text="Fazemos sim! Quer agendar?")).to_be_visible(
        timeout=20_000
    )
    assert [m["text"]["body"] for m in graph.messages if m.get("to") == lead.phone.lstrip("+")] == [
        "Fazemos sim! Quer agendar?"
    ]
    # a late redelivery of the send job sends nothing
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        assert pool.submit(asyncio.run, send_queued(ws.workspace_id, outbound().id)).result() is None
    assert len([m for m in graph.messages if m.get("to") == lead.phone.lstrip("+")]) == 1
