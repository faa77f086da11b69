"""Playground in a real browser: an owner chats with an agent (a real ChatOpenAI talking HTTP to a
scripted chat-completions server), sees a cited answer with its source, tools and tokens beside it,
sends a file, simulates copilot and starts over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from db.tenancy import tenant_session
from runtime.agent.service import create_agent
from runtime.knowledge.documents import add_document, ingest_document
from tests.browser.helpers import login, new_owner, open_page, shot
from tests.fakes.openai_chat import FakeOpenAIChat, tool_call
from tests.fakes.servers import serve_in_thread

pytestmark = pytest.mark.browser

COMPANY = Path(__file__).resolve().parents[1] / "data" / "company"


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        yield fake, url + "/v1"


def test_without_agents_the_page_points_to_agentes(page: Page, app_url):
    _, email, _ = new_owner()
    login(page, email)
    open_page(page, "/playground")
    expect(page.get_by_text("Nenhum agente para testar")).to_be_visible()
    expect(page.locator("#playground-create-agent")).to_have_attribute("href", "/agentes")
    shot(page, "playground_empty")


def test_chat_with_an_agent_and_see_why_it_answered(page: Page, app_url, llm):
    fake, url = llm
    ws, email, _ = new_owner()
    with tenant_session(ws.workspace_id) as s:
        md = COMPANY / "sobre-nos.md"
        doc = add_document(s, ws.workspace_id, filename=md.name, data=md.read_bytes()).document.id
        create_agent(
            s,
            ws.workspace_id,
            name="Sofia",
            settings={
                "persona": "Você é a Sofia, da Clínica Sorriso Feliz.",
                "llm": {"provider": "openai", "model": "gpt-4o-mini", "base_url": url, "timeout_seconds": 10},
                "qualification": [{"key": "need", "label": "Tratamento desejado"}],
            },
            llm_api_key=fake.api_key,
        )
        s.commit()
    assert ingest_document(ws.workspace_id, doc) == "ready"

    login(page, email)
    open_page(page, "/playground")
    expect(page.locator("#playground-agent")).to_contain_text("Sofia")
    expect(page.locator("#playground-model")).to_have_text("openai · gpt-4o-mini")
    expect(page.get_by_text("Escreva como se fosse um cliente.")).to_be_visible()

    # a question the knowledge answers: the reply cites it, the side panel shows why
    fake.script(
        tool_call("update_lead", {"fields": {"need": "limpeza"}, "lead_type": "customer"}),
        "Temos convênio com o estacionamento Park Center: as 2 primeiras horas são por nossa conta [1].",
    )
    page.locator("#playground-input").fill("Vocês têm estacionamento?")
    page.locator("#playground-send").click()
    expect(page.locator(".bubble-lead").last).to_have_text("Vocês têm estacionamento?")
    reply = page.locator(".bubble-agent").last
    expect(reply).to_contain_text("Park Center", timeout=30_000)
    expect(reply).to_contain_text("[1]")
    expect(page.locator("#trace-sources .trace-source").first).to_contain_text("[1] sobre-nos.md")
    expect(page.locator("#trace-intent")).to_have_text("Pergunta respondida com o conhecimento")
    expect(page.locator("#trace-route")).to_have_text("Modelo de linguagem")
    expect(page.locator("#trace-lead-type")).to_have_text("Cliente")
    expect(page.locator("#trace-tools")).to_contain_text("update_lead")
    expect(page.locator("#trace-tokens")).to_contain_text(re.compile(r"entrada\s*[1-9]"))
    expect(page.locator("#playground-input")).to_have_value("")  # the composer is cleared
    shot(page, "playground_cited_answer")

    # the lead sends a document: it is read and reaches the agent
    fake.script("Recebi o documento: cancelamentos com 24 horas de antecedência [1].")
    page.locator("#playground-upload input[type=file]").set_input_files(str(COMPANY / "politicas-e-procedimentos.pdf"))
    expect(page.locator("#playground-attachment")).to_have_text("politicas-e-procedimentos.pdf")
    page.locator("#playground-input").fill("o que diz aqui sobre cancelamento?")
    page.locator("#playground-send").click()
    expect(page.locator(".bubble-agent")).to_have_count(2, timeout=30_000)
    expect(page.locator(".bubble-lead").last).to_contain_text("politicas-e-procedimentos.pdf")
    assert "[documento do cliente]" in fake.last_body()["messages"][-1]["content"]

    # copilot: the reply is a suggestion for a seller
    page.get_by_role("radio", name="Copiloto").click()
    expect(page.get_by_text("a resposta vira uma sugestão")).to_be_visible()
    fake.script("Temos estacionamento conveniado, sim [1]. Qual tratamento você procura?")
    page.locator("#playground-input").fill("e estacionamento pra moto?")
    page.locator("#playground-send").click()
    expect(page.locator(".bubble-agent")).to_have_count(3, timeout=30_000)
    expect(page.locator(".bubble-agent").last).to_contain_text("Sugestão para o vendedor")
    expect(page.locator("#trace-mode")).to_have_text("Copiloto (sugestão)")

    # clicking an earlier reply shows its own trace
    page.locator(".bubble-agent").first.click()
    expect(page.locator("#trace-mode")).to_have_text("Piloto")
    expect(page.locator("#trace-tools")).to_contain_text("update_lead")

    # the conversation survives a reload
    page.reload()
    expect(page.locator(".bubble-agent")).to_have_count(3)

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#playground-send")).to_be_visible()
    shot(page, "playground_phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # start over
    page.locator("#playground-reset").click()
    page.locator("#playground-reset-confirm").click()
    expect(page.locator("[data-sonner-toast]", has_text="Conversa reiniciada")).to_be_visible()
    expect(page.locator(".bubble-agent")).to_have_count(0)
    expect(page.get_by_text("Escreva como se fosse um cliente.")).to_be_visible()
