"""The follow-up cadence in the seller's inbox: the next automatic step shows under the thread, a
step that went out is marked "follow-up" in the thread, and the seller can stop the cadence (the
lead panel keeps the history)."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy import text

from db.engine import app_engine
from db.tenancy import tenant_session
from runtime.agent.service import create_agent
from runtime.channels.service import ChannelSettings, create_channel
from runtime.followups.service import run_step
from runtime.pipeline.inbound import ChannelRef
from tests.followups.conftest import Lead, step

from .helpers import login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _drop_queued_jobs(pg):
    """No worker runs here: drop the jobs this test leaves (the lead's turn, the sends) so later
    modules' workers skip them."""
    yield
    with app_engine().begin() as conn:
        conn.execute(text("DELETE FROM pgqueuer WHERE status = 'queued'"))


def _lead_with_a_cadence(ws) -> Lead:
    steps = [step(2, "hours", "Oi {nome}, conseguiu ver o orçamento?"), step(1, "days", "Posso ajudar?")]
    with tenant_session(ws.workspace_id) as s:
        agent = create_agent(
            s, ws.workspace_id, name="Sofia", settings={"followups": {"enabled": True, "steps": steps}}
        )
        agent.config = {**agent.config, "llm": {**agent.config["llm"], "provider": "none"}}
        s.add(agent)
        channel = create_channel(
            s,
            ws.workspace_id,
            provider="cloud_api",
            name="WhatsApp da loja",
            credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s", "verify_token": "v"},
            api_base_url="http://127.0.0.1:9",  # nothing is sent in this test: no worker runs the sends
            agent_id=agent.id,
            settings={"debounce_seconds": 0.2},
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


def test_a_seller_sees_the_next_follow_up_and_stops_it(page: Page):
    ws, owner_email, _ = new_owner(company="Móveis Aurora", name="Lia Costa")
    lead = _lead_with_a_cadence(ws)
    lead.writes("Quanto fica o sofá de 3 lugares?")
    lead.we_reply("Oi Ana! Fica R$ 2.400 à vista.")
    first = lead.pending()
    with time_machine.travel(first.due_at, tick=False):
        assert run_step(lead.workspace_id, first.id) == "sent"

    login(page, owner_email)
    open_page(page, "/inbox")
    page.locator(".conversation-row").first.click()
    expect(page.locator(".followup-badge")).to_have_count(1)
    expect(page.locator(".message", has=page.locator(".followup-badge"))).to_contain_text(
        "Oi Ana, conseguiu ver o orçamento?"
    )
    expect(page.locator("#followup-next")).to_contain_text("Follow-up automático: etapa 2 de 2 (texto) em ")
    shot(page, "inbox_followup_next")

    page.locator("#followup-cancel").click()
    expect(page.locator("[data-sonner-toast]", has_text="Follow-up automático cancelado")).to_be_visible()
    expect(page.locator("#followup-next")).to_have_count(0)
    assert lead.pending() is None

    page.locator("#open-lead").click()
    rows = page.locator("#lead-form-dialog .followup-history-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Etapa 2 · Cancelado")
    expect(rows.nth(0)).to_contain_text("cancelado por Lia Costa")
    expect(rows.nth(1)).to_contain_text("Etapa 1 · Enviado")
    shot(page, "inbox_followup_history")
