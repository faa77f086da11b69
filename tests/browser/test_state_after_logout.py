"""A shared shop computer: what one person saw in a tab must not reach the next person in the same
tab. Reflex keys the UI state by the tab's token (sessionStorage), which survives /auth/logout, so
every websocket frame the page receives is recorded and searched for the previous person's secrets
(API key, password link, webhook secret) and data (a lead only managers see, an API key's name)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Page, expect

from db.models import Channel, Contact, Role
from db.tenancy import tenant_session
from runtime.access import Principal
from runtime.auth import sessions
from runtime.channels.registry import decrypt_credentials
from runtime.panel import channels as channels_panel
from tests.inbox.conftest import add_member

from .helpers import login, new_owner, open_page, path_of, shot

pytestmark = pytest.mark.browser

LEAD_NAME = "Marina Confidencial"
KEY_NAME = "Chave do ERP Sigiloso"


@dataclass
class Frames:
    """Every websocket frame the tab received, tagged with whose session opened its socket."""

    now: str = "owner"
    received: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def on_socket(ws) -> None:
            who = self.now  # the session the socket was opened in (a late frame still counts there)
            ws.on("framereceived", lambda p: self.received.append((who, p if isinstance(p, str) else p.decode())))

        page.on("websocket", on_socket)

    def of(self, who: str) -> list[str]:
        return [text for w, text in self.received if w == who]

    def carrying(self, who: str, secret: str) -> list[str]:
        return [text for text in self.of(who) if secret in text]


def _deltas(frame: str) -> str:
    """The state part of a Socket.IO event frame (`42["event",{"delta": ..., "events": ...}]`)."""
    body = re.sub(r"^\d+", "", frame)
    try:
        message = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(message, list) or len(message) < 2 or not isinstance(message[1], dict):
        return ""
    return json.dumps(message[1].get("delta") or {}, ensure_ascii=False)


def _shop():
    """A workspace with a lead only managers see, a Z-API channel (webhook secret) and a seller."""
    ws, owner_email, _ = new_owner("Loja do Balcão Compartilhado", "Dona Rosa")
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    seller = add_member(ws.workspace_id, Role.seller, "Beto Balcão")
    with tenant_session(ws.workspace_id) as s:
        phone = f"+55119{uuid.uuid4().int % 10**8:08d}"
        s.add(Contact(workspace_id=ws.workspace_id, phone=phone, name=LEAD_NAME, email="marina@example.com"))
        s.commit()
    channel = channels_panel.connect_channel(
        owner,
        "zapi",
        {"name": "WhatsApp do balcão", "instance_id": "inst-1", "token": "tok-zapi-1", "client_token": "ct-zapi-1"},
    )
    with tenant_session(ws.workspace_id) as s:
        webhook_secret = decrypt_credentials(s.get(Channel, uuid.UUID(channel["id"])).credentials_encrypted)[
            "webhook_secret"
        ]
    return ws, owner_email, seller, webhook_secret


def _shots(page: Page, name: str) -> None:
    """Desktop and 390 px phone screenshots of the page as it is."""
    shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(400)  # let the layout settle before a full-page capture
    shot(page, f"{name}_phone")
    page.set_viewport_size({"width": 1280, "height": 800})


def _logout(page: Page) -> None:
    page.locator("#logout-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()


def test_the_next_person_in_the_same_tab_receives_nothing_of_the_owner(page: Page, app_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _, owner_email, seller, webhook_secret = _shop()
    frames = Frames()
    frames.watch(page)
    problems: list[str] = []

    # --- the owner -----------------------------------------------------------------------------
    login(page, owner_email)
    owner_cookie = next(c["value"] for c in page.context.cookies() if c["httpOnly"])
    open_page(page, "/leads")
    expect(page.get_by_text(LEAD_NAME)).to_be_visible()

    # An LLM key typed into a new agent (not saved): it goes to the server, never back.
    typed_llm_key = f"sk-digitada-{uuid.uuid4().hex}"
    open_page(page, "/agentes")
    page.locator("#new-agent-empty").click()
    page.locator("#tab-modelo").click()
    page.locator("#f-llm_api_key").fill(typed_llm_key)
    page.locator("#f-llm_model").fill("gpt-4o-mini")
    page.locator("#tab-persona").click()
    page.locator("#f-name").fill("Sofia")
    page.locator("#tab-modelo").click()
    expect(page.locator("#f-llm_api_key")).to_have_attribute("placeholder", re.compile("nova chave digitada"))

    open_page(page, "/configuracoes")
    page.locator("#api-key-name").fill(KEY_NAME)
    page.locator("#api-key-create").click()
    expect(page.locator("[data-sonner-toast]", has_text="Chave criada")).to_be_visible()
    expect(page.locator("#new-api-key")).to_have_value(re.compile(r"^pv_"))
    key = page.locator("#new-api-key").input_value()
    status = httpx.get(f"{app_url}/api/v1/workspace", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert status.status_code == 200
    page.get_by_role("button", name="Copiar", exact=True).click()
    expect(page.locator("[data-sonner-toast]", has_text="Chave copiada")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    _shots(page, "state_api_key_shown_once")
    # The owner leaves the key on screen (no "Já copiei") and goes on working.

    open_page(page, "/equipe")
    page.locator(".member-row", has_text=seller.email).locator(".member-password-link").click()
    expect(page.locator("[data-sonner-toast]", has_text="Link de nova senha gerado")).to_be_visible()
    expect(page.locator("#invite-link")).to_have_value(re.compile(r"/redefinir-senha\?token="))
    link = page.locator("#invite-link").input_value()
    reset_token = link.split("token=", 1)[1]
    page.locator("#invite-copy").click()
    expect(page.locator("[data-sonner-toast]", has_text="Link copiado")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    _shots(page, "state_password_link_shown_once")

    open_page(page, "/canais")
    card = page.locator(".channel-card", has_text="WhatsApp do balcão")
    expect(card.locator("[data-copy=webhook]")).to_contain_text("/webhooks/zapi/")
    if webhook_secret in card.locator("[data-copy=webhook]").inner_text():
        problems.append("the webhook secret is printed on the channel card")
    if frames.carrying("owner", webhook_secret):
        problems.append("the webhook secret reached the page before any copy")
    card.locator("[data-copy-button=webhook]").click()
    expect(page.locator("[data-sonner-toast]", has_text="Endereço do webhook copiado")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f"?secret={webhook_secret}") and "/webhooks/zapi/" in copied
    _shots(page, "state_channel_webhook_masked")

    # --- the next person, in the same tab ---------------------------------------------------------
    frames.now = "seller"
    _logout(page)
    login(page, seller.email, expect_path="/inbox")
    open_page(page, "/configuracoes")
    expect(page.locator("#section-api-keys")).to_have_count(0)
    page.wait_for_timeout(500)  # frames still in flight

    owner_frames, seller_frames = frames.of("owner"), frames.of("seller")
    assert owner_frames and seller_frames
    # The HttpOnly session cookie is read server side from the handshake, never echoed back.
    assert not frames.carrying("owner", owner_cookie) and not frames.carrying("seller", owner_cookie)
    if frames.carrying("owner", typed_llm_key):
        problems.append("the typed LLM key was echoed back to the page")
    # Sanity: the frames of the owner's session did carry the owner's data (so the search can fail).
    assert frames.carrying("owner", LEAD_NAME) and frames.carrying("owner", KEY_NAME)
    for what, secret in {
        "the typed LLM key": typed_llm_key,
        "the API key": key,
        "the API key's name": KEY_NAME,
        "the password link": reset_token,
        "the webhook secret": webhook_secret,
        "a lead only managers see": LEAD_NAME,
    }.items():
        if leaked := frames.carrying("seller", secret):
            problems.append(f"{what} reached the next person's session in {len(leaked)} frame(s): {leaked[0][:200]}")

    # Shown once, never kept in the synced state: each secret reached the owner's page in exactly
    # one frame (the reveal or the copy she asked for), never inside a state delta.
    for what, secret in {
        "the API key": key,
        "the password link": reset_token,
        "the webhook secret": webhook_secret,
    }.items():
        carrying = frames.carrying("owner", secret)
        if len(carrying) != 1:
            problems.append(f"{what} reached the owner's page in {len(carrying)} frames")
        if any(secret in _deltas(f) for f in carrying):
            problems.append(f"{what} was put in the synced state")
    assert not problems, "\n".join(problems)


def test_a_revoked_session_reloaded_gets_a_clean_state(page: Page):
    """The owner's session ends elsewhere ("sair de todas as sessões", a new password); whoever
    reloads the tab next sees the login page and none of the owner's data."""
    ws, owner_email, _, _ = _shop()
    frames = Frames()
    frames.watch(page)
    login(page, owner_email)
    open_page(page, "/leads")
    expect(page.get_by_text(LEAD_NAME)).to_be_visible()
    assert frames.carrying("owner", LEAD_NAME)

    sessions.revoke_user_sessions(ws.user_id)
    frames.now = "after"
    page.reload()
    page.wait_for_url(re.compile(r"/login\?"))
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    page.wait_for_timeout(300)
    assert frames.of("after")
    assert not frames.carrying("after", LEAD_NAME)


def test_someone_signing_in_over_an_open_session_gets_a_clean_state(page: Page):
    """No logout at all: a seller signs in (a full form post) in the tab where the owner is still
    signed in; the state the owner's pages filled is gone before the seller's first frame."""
    _, owner_email, seller, _ = _shop()
    frames = Frames()
    frames.watch(page)
    login(page, owner_email)
    open_page(page, "/leads")
    expect(page.get_by_text(LEAD_NAME)).to_be_visible()

    frames.now = "seller"
    page.evaluate(
        """([email, password]) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/auth/login';
            for (const [name, value] of Object.entries({email, password})) {
                const input = document.createElement('input');
                input.name = name;
                input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [seller.email, "senha-forte-123"],
    )
    page.wait_for_url(re.compile(r"/inbox$"))
    expect(page.locator("#user-email")).to_have_text(seller.email)
    page.wait_for_timeout(300)
    assert path_of(page) == "/inbox"
    assert frames.of("seller")
    assert not frames.carrying("seller", LEAD_NAME)
