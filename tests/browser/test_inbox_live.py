"""Two sellers work the live inbox in two browsers against a fake Cloud API: a lead's message
appears without a reload, a copilot suggestion is accepted, the bot stays silent while a seller
has taken over and answers again once handed back. The live latency is measured and recorded."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from db.models import AgentMode, Conversation, Role
from db.tenancy import tenant_session
from runtime.auth.api_keys import create_api_key
from tests.conftest import wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.servers import serve_in_thread
from tests.inbox.conftest import add_member

from .helpers import SCREENSHOTS, login, new_owner, shot

APP_SECRET = "segredo-do-app"
AUTO_REPLY = "Oi! Sou o assistente da loja, já te ajudo."
SEEN_SCRIPT = """() => {
  window.__rowSeenAt = null;
  new MutationObserver((_, observer) => {
    if (document.querySelector('.conversation-row')) { window.__rowSeenAt = Date.now(); observer.disconnect(); }
  }).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


def _new_page(browser, app_url, errors: list[str]):
    ctx = browser.new_context(base_url=app_url, locale="pt-BR", viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    return ctx, page


def test_two_sellers_work_live_conversations(browser, app_url, graph, worker):
    ws, owner_email, _ = new_owner("Loja Live")
    bruno = add_member(ws.workspace_id, Role.seller, "Bruno Vendas")
    carla = add_member(ws.workspace_id, Role.seller, "Carla Vendas")
    key = create_api_key(ws.workspace_id, "tests").key
    api = httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "cloud_api",
            "name": "WhatsApp da loja",
            "api_base_url": graph.base_url,
            "credentials": {
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": APP_SECRET,
                "verify_token": "verifica",
            },
            "settings": {"debounce_seconds": 0.2, "auto_reply_text": AUTO_REPLY},
        },
    )
    assert r.status_code == 201, r.text
    hook = r.json()["webhook_url"].split("/webhooks/", 1)[1]
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"

    def lead_says(body: str) -> float:
        raw, headers = meta.signed(meta.text_message(body, from_phone=phone, name="Marina Lead"), APP_SECRET)
        started = time.perf_counter()
        resp = httpx.post(f"{app_url}/webhooks/{hook}", content=raw, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        return started

    def sent() -> list[dict]:
        return [m for m in graph.messages if m.get("to") == phone]

    errors: list[str] = []
    ctx_a, a = _new_page(browser, app_url, errors)
    ctx_b, b = _new_page(browser, app_url, errors)
    try:
        login(a, bruno.email, expect_path="/inbox")
        login(b, carla.email, expect_path="/inbox")
        for p in (a, b):
            expect(p.locator("#live-badge")).to_be_visible()
            expect(p.locator("#conversation-list-empty")).to_be_visible()
            expect(p.locator("[data-sonner-toast]")).to_have_count(0)  # no refusal from a manager page
            # Each tab notes (wall clock, same machine) when the first conversation row appears.
            p.evaluate(SEEN_SCRIPT)

        # 1. A new lead's message shows up in both inboxes without a reload.
        posted_ms = time.time() * 1000
        lead_says("Oi, quanto custa a entrega?")
        row_a = a.locator(".conversation-row", has_text="Marina Lead")
        row_b = b.locator(".conversation-row", has_text="Marina Lead")
        expect(row_a).to_be_visible(timeout=10_000)
        expect(row_b).to_be_visible(timeout=10_000)
        latency_a = (a.evaluate("window.__rowSeenAt") - posted_ms) / 1000
        latency_b = (b.evaluate("window.__rowSeenAt") - posted_ms) / 1000
        wait_until(lambda: len(sent()) == 1)  # the bot answered (pilot)
        expect(row_a).to_contain_text(AUTO_REPLY)
        shot(a, "inbox_list")

        # 2. Bruno opens it; a copilot suggestion arrives live and he sends it.
        row_a.click()
        expect(a.locator("#thread-name")).to_have_text("Marina Lead")
        expect(a.locator(".message", has_text="Oi, quanto custa a entrega?")).to_be_visible()
        with tenant_session(ws.workspace_id) as s:
            conv = s.execute(
                text("SELECT c.id FROM conversation c JOIN contact ct ON ct.id = c.contact_id WHERE ct.phone = :p"),
                {"p": "+" + phone},
            ).scalar_one()
            row = s.get(Conversation, conv)
            row.mode_override = AgentMode.copilot
            s.add(row)
            s.commit()
        lead_says("Vocês entregam no sábado?")
        expect(a.locator("#suggestion-card")).to_be_visible(timeout=10_000)
        expect(a.locator("#suggestion-draft")).to_have_text(AUTO_REPLY)
        shot(a, "inbox_copilot")
        assert len(sent()) == 1  # copilot: nothing went out by itself
        a.locator("#suggestion-accept").click()
        wait_until(lambda: len(sent()) == 2)
        expect(a.locator("#suggestion-card")).to_have_count(0)

        # 3. Bruno takes over: the bot stays silent; he answers from the composer.
        a.locator("#take-over").click()
        expect(a.locator("#mode-badge")).to_have_text("Humano no comando")
        lead_says("Tem desconto no pix?")
        expect(a.locator(".message", has_text="Tem desconto no pix?")).to_be_visible(timeout=10_000)
        wait_until(
            lambda: (
                "skipped: bot paused in this conversation"
                in [
                    o
                    for (o,) in _rows(
                        ws.workspace_id, "SELECT outcome FROM conversation_turn WHERE conversation_id = :c", c=conv
                    )
                ]
            )
        )
        assert len(sent()) == 2
        a.locator("#composer").fill("Tem sim: 5% no pix. Posso fechar?")
        a.locator("#composer-send").click()
        wait_until(lambda: len(sent()) == 3)
        assert sent()[-1]["text"]["body"] == "Tem sim: 5% no pix. Posso fechar?"
        expect(a.locator(".message[data-author=seller]", has_text="5% no pix")).to_be_visible()
        # A voice note recorded in the browser (Chromium's fake microphone) goes out as audio.
        a.locator("#record-start").click()
        expect(a.locator("#record-stop")).to_be_visible()
        a.wait_for_timeout(12_000)  # longer than Reflex's default 1 MB websocket message would allow
        a.locator("#record-stop").click()
        expect(a.locator("[data-sonner-toast]", has_text="Áudio enviado")).to_be_visible(timeout=20_000)
        wait_until(lambda: len(sent()) == 4)
        assert sent()[-1]["type"] == "audio"
        expect(a.locator(".message[data-author=seller] audio")).to_have_count(1)
        shot(a, "inbox_takeover")

        # The lead's details are edited from the conversation.
        a.locator("#open-lead").click()
        lead_form = a.locator("#lead-form-dialog")
        expect(lead_form.locator("input[name=name]")).to_have_value("Marina Lead")
        expect(lead_form.get_by_role("combobox").first).to_contain_text("Novo")
        lead_form.locator("input[name=tags]").fill("pix, entrega")
        lead_form.locator("textarea[name=notes]").fill("Quer pagar no pix e receber no sábado.")
        lead_form.locator(".lead-save").click()
        expect(a.locator("[data-sonner-toast]", has_text="Dados do lead salvos")).to_be_visible()
        a.keyboard.press("Escape")
        with tenant_session(ws.workspace_id) as s:
            saved = s.execute(
                text("SELECT ct.tags, ct.notes FROM contact ct WHERE ct.phone = :p"), {"p": "+" + phone}
            ).one()
        assert saved == (["entrega", "pix"], "Quer pagar no pix e receber no sábado.")

        # Carla no longer sees Bruno's conversation (a seller sees theirs and the unassigned ones).
        expect(row_b).to_have_count(0, timeout=10_000)

        # 4. Back to the bot: the next lead message is answered by it again.
        a.locator("#hand-back").click()
        expect(a.locator("#mode-badge")).to_have_text("Robô respondendo")
        lead_says("Ok, obrigado!")
        wait_until(lambda: len(sent()) == 5)
        assert sent()[-1]["text"]["body"] == AUTO_REPLY
        expect(a.locator(".message[data-author=agent]", has_text=AUTO_REPLY).last).to_be_visible()

        # 5. The owner sees who answered what, and adds a quick reply the sellers then use.
        ctx_o, o = _new_page(browser, app_url, errors)
        try:
            login(o, owner_email)
            o.goto("/inbox")
            o.locator("#open-activity").click()
            bruno_row = o.locator(".activity-row", has_text="Bruno Vendas")
            expect(bruno_row).to_be_visible()
            expect(bruno_row).to_contain_text("1")
            shot(o, "inbox_activity")
            o.keyboard.press("Escape")
            o.locator("#open-quick").click()
            o.locator("#quick-shortcut").fill("/pix")
            o.locator("#quick-text").fill("Nossa chave pix é o CNPJ 12.345.678/0001-90.")
            o.locator("#quick-save").click()
            expect(o.locator("[data-sonner-toast]", has_text="Resposta rápida salva")).to_be_visible()
        finally:
            ctx_o.close()
        a.reload()
        a.locator(".conversation-row", has_text="Marina Lead").click()
        a.locator("#composer").fill("/pi")
        a.get_by_role("button", name="/pix").click()
        expect(a.locator("#composer")).to_have_value("Nossa chave pix é o CNPJ 12.345.678/0001-90.")

        a.set_viewport_size({"width": 390, "height": 844})
        shot(a, "inbox_phone")
    finally:
        ctx_a.close()
        ctx_b.close()
        api.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "inbox_live_latency.json").write_text(
        json.dumps({"seller_a_s": round(latency_a, 3), "seller_b_s": round(latency_b, 3)})
    )
    print(f"live inbox latency: seller A {latency_a * 1000:.0f} ms, seller B {latency_b * 1000:.0f} ms")
    assert not errors, "\n".join(errors)


def _rows(workspace_id, sql: str, **params):
    with tenant_session(workspace_id) as s:
        return s.execute(text(sql), params).all()
