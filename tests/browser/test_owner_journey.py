"""Issue 7's "done when", in one browser session: a new owner signs up, creates an agent, connects
a WhatsApp channel, uploads knowledge, tests the agent in the playground and sees the dashboard
move when a real lead writes in. Providers are local fakes speaking their wire formats (Graph API,
OpenAI chat completions); the job worker is real."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD, open_page, path_of, shot
from tests.conftest import wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.servers import serve_in_thread

COMPANY = Path(__file__).resolve().parents[1] / "data" / "company"
APP_SECRET = "segredo-do-app-meta"


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        yield fake, url + "/v1"


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


def test_new_owner_from_sign_up_to_a_moving_dashboard(page: Page, app_url, worker, llm, graph):
    fake_llm, llm_url = llm
    email = f"dona-{uuid.uuid4().hex[:8]}@example.com"

    # 1. Sign up.
    page.goto("/cadastro")
    form = page.locator("#signup-form")
    form.locator("input[name=company]").fill("Clínica Sorriso Feliz")
    form.locator("input[name=name]").fill("Ana Souza")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    page.locator("#signup-submit").click()
    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Clínica Sorriso Feliz")
    expect(page.locator("#getting-started")).to_contain_text("0 de 4 concluídos")
    shot(page, "journey_1_new_workspace")

    # 2. Create the agent (model: an OpenAI-compatible server).
    open_page(page, "/agentes")
    page.locator("#new-agent-empty").click()
    page.locator("#f-name").fill("Sofia")
    page.locator("#f-persona").fill("Você é a Sofia, da Clínica Sorriso Feliz. Responda com base no conhecimento.")
    page.locator("#tab-modelo").click()
    page.locator("#f-llm_provider").click()
    page.get_by_role("option", name="OpenAI (ou compatível)").click()
    page.locator("#f-llm_model").fill("gpt-4o-mini")
    page.locator("#f-llm_base_url").fill(llm_url)
    page.locator("#f-llm_api_key").fill(fake_llm.api_key)
    page.locator("#save-agent").click()
    expect(page.locator("[data-sonner-toast]", has_text="Agente salvo")).to_be_visible()
    shot(page, "journey_2_agent")

    # 3. Connect the WhatsApp channel (Cloud API), answered by Sofia.
    open_page(page, "/canais")
    page.locator("#connect-open-empty").click()
    form = page.locator("#connect-form-cloud_api")
    form.locator("input[name=name]").fill("WhatsApp da clínica")
    form.locator("input[name=phone_number_id]").fill(graph.phone_number_id)
    form.locator("input[name=access_token]").fill(graph.access_token)
    form.locator("input[name=app_secret]").fill(APP_SECRET)
    form.locator("input[name=api_base_url]").fill(graph.base_url)
    expect(form.locator("select[name=agent_id]")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    page.locator("#connect-submit-cloud_api").click()
    expect(page.locator("[data-sonner-toast]", has_text="Canal conectado")).to_be_visible()
    card = page.locator(".channel-card", has_text="WhatsApp da clínica")
    expect(card).to_contain_text("Sofia")
    webhook_url = card.locator("[data-copy=webhook]").inner_text().strip()
    assert "/webhooks/" in webhook_url
    shot(page, "journey_3_channel")

    # 4. Upload knowledge and wait for it to be ready.
    open_page(page, "/conhecimento")
    page.locator("#knowledge-upload input[type=file]").set_input_files(
        [{"name": "sobre-nos.md", "mimeType": "text/markdown", "buffer": (COMPANY / "sobre-nos.md").read_bytes()}]
    )
    expect(page.locator('.doc-row[data-filename="sobre-nos.md"]')).to_contain_text("Pronto", timeout=40_000)
    shot(page, "journey_4_knowledge")

    # 5. Playground: a cited answer from that document.
    open_page(page, "/playground")
    fake_llm.script("Temos convênio com o estacionamento Park Center, as 2 primeiras horas são por nossa conta [1].")
    page.locator("#playground-input").fill("Vocês têm estacionamento?")
    page.locator("#playground-send").click()
    expect(page.locator(".bubble-agent").last).to_contain_text("Park Center", timeout=30_000)
    expect(page.locator("#trace-sources .trace-source").first).to_contain_text("sobre-nos.md")
    shot(page, "journey_5_playground")

    # 6. A real lead writes on WhatsApp; Sofia answers through the provider; the dashboard moves.
    open_page(page, "/painel")
    before = page.locator("#kpi-conversations .kpi-value").inner_text()
    fake_llm.script("Olá! Sim, temos estacionamento conveniado [1]. Posso agendar uma avaliação?")
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    raw, headers = meta.signed(
        meta.text_message("Oi, tem estacionamento?", from_phone=phone, name="Marcos"), APP_SECRET
    )
    path = webhook_url.split("://", 1)[1].split("/", 1)[1]
    r = httpx.post(f"{app_url}/{path}", content=raw, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    wait_until(lambda: [m for m in graph.messages if m.get("to") == phone], timeout=30)
    assert "estacionamento" in next(m for m in graph.messages if m.get("to") == phone)["text"]["body"]
    page.reload()
    expect(page.locator("#kpi-conversations .kpi-value")).not_to_have_text(before, timeout=20_000)
    expect(page.locator("#kpi-conversations .kpi-value")).to_have_text("1")
    expect(page.locator("#getting-started")).to_have_count(0)  # all four first steps done
    assert path_of(page) == "/painel"
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shot(page, "journey_6_dashboard")

    # 7. The lead is on the Leads page, linked to its conversation in the inbox.
    open_page(page, "/leads")
    lead_row = page.locator(".lead-row", has_text="Marcos")
    expect(lead_row).to_contain_text("+" + phone)
    lead_row.get_by_role("link", name="Abrir conversa").click()
    page.wait_for_url(re.compile(r"/inbox\?c="))
    expect(page.locator("#thread-name")).to_have_text("Marcos")
    expect(page.locator(".message[data-author=agent]")).to_contain_text("estacionamento conveniado")
    shot(page, "journey_7_inbox")
