"""Agentes in a real browser: an owner creates an agent, meets a validation error, fixes it, saves,
reloads and finds everything there; screenshots at desktop and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


def test_owner_creates_an_agent_and_it_persists(page: Page):
    _, email, _ = new_owner()
    login(page, email)
    open_page(page, "/agentes")

    # Empty state with its call to action.
    expect(page.get_by_text("Nenhum agente ainda")).to_be_visible()
    shot(page, "agents_empty")
    page.locator("#new-agent-empty").click()
    expect(page.locator("#agent-editor")).to_be_visible()

    # Persona tab.
    page.locator("#f-name").fill("Sofia")
    page.locator("#f-persona").fill("Você é a Sofia, consultora da Clínica Sorriso.")
    page.locator("#f-mode").get_by_role("radio", name="Copiloto", exact=True).click()

    # Qualificação: a field with an invalid key.
    page.locator("#tab-qualificacao").click()
    page.locator("#add-qualification").click()
    page.locator(".q-label input, input.q-label").first.fill("Orçamento")
    page.locator(".q-key input, input.q-key").first.fill("Orçamento")

    # Comportamento: a keyword rule.
    page.locator("#tab-comportamento").click()
    page.locator("#add-intent").click()
    page.locator(".i-name input, input.i-name").first.fill("Promoção")
    page.locator("textarea.i-patterns, .i-patterns textarea").first.fill("promoção\ndesconto")
    page.locator("textarea.i-response, .i-response textarea").first.fill("Esta semana: 20% no clareamento!")

    # Modelo: no LLM (rules, learned answers and knowledge excerpts only).
    page.locator("#tab-modelo").click()
    page.locator("#f-llm_provider").click()
    page.get_by_role("option", name="Nenhum").click()

    # Horário: Saturday open in the morning.
    page.locator("#tab-horario").click()
    page.locator("#open-5").click()

    page.locator("#save-agent").click()
    error = page.locator("#agent-error")
    expect(error).to_contain_text("Aba Qualificação › campo 1 (Orçamento): a chave")
    expect(page.locator("[data-sonner-toast]", has_text="a chave deve começar")).to_be_visible()
    # The editor jumped to the tab with the problem.
    expect(page.locator("#tab-qualificacao")).to_have_attribute("data-state", "active")
    shot(page, "agents_validation_error")

    page.locator(".q-key input, input.q-key").first.fill("orcamento")
    page.locator("#save-agent").click()
    expect(page.locator("[data-sonner-toast]", has_text="Agente salvo")).to_be_visible()
    expect(page.locator("#agent-error")).to_have_count(0)
    shot(page, "agents_editor_saved")

    # Reload: the list shows it; opening it shows every tab as saved.
    page.reload()
    expect(page.locator(".agent-card")).to_have_count(1)
    expect(page.locator(".agent-name")).to_have_text("Sofia")
    expect(page.locator(".agent-card")).to_contain_text("Copiloto")
    expect(page.locator(".agent-card")).to_contain_text("1 regras")
    shot(page, "agents_list")
    page.locator(".agent-card").get_by_role("button", name="Editar").click()
    expect(page.locator("#f-name")).to_have_value("Sofia")
    expect(page.locator("#f-persona")).to_have_value("Você é a Sofia, consultora da Clínica Sorriso.")
    page.locator("#tab-qualificacao").click()
    expect(page.locator(".q-key input, input.q-key").first).to_have_value("orcamento")
    page.locator("#tab-comportamento").click()
    expect(page.locator("textarea.i-patterns, .i-patterns textarea").first).to_have_value("promoção\ndesconto")
    page.locator("#tab-horario").click()
    expect(page.locator("#open-5")).to_have_attribute("data-state", "checked")
    expect(page.locator("#open-6")).to_have_attribute("data-state", "unchecked")
    page.locator("#tab-persona").click()

    # Follow-up: a cadence of one step, saved and found again after a reload.
    page.locator("#tab-followup").click()
    page.locator("#f-followup_enabled").click()
    page.locator("#add-followup-step").click()
    page.locator(".fu-delay input, input.fu-delay").first.fill("2")
    page.locator("textarea.fu-text, .fu-text textarea").first.fill("Oi {nome}, ainda tem interesse no clareamento?")
    page.locator("#save-agent").click()
    expect(page.locator("[data-sonner-toast]", has_text="Agente salvo").last).to_be_visible()
    shot(page, "agents_followup")
    page.reload()
    page.locator(".agent-card").get_by_role("button", name="Editar").click()
    page.locator("#tab-followup").click()
    expect(page.locator("#f-followup_enabled")).to_have_attribute("data-state", "checked")
    expect(page.locator("textarea.fu-text, .fu-text textarea").first).to_have_value(
        "Oi {nome}, ainda tem interesse no clareamento?"
    )
    page.locator("#tab-persona").click()

    # Phone width: the editor and the list still work.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#save-agent")).to_be_visible()
    shot(page, "agents_editor_phone")
    page.locator("#back-to-list").click()
    expect(page.locator(".agent-card")).to_have_count(1)
    shot(page, "agents_list_phone")


def test_a_new_llm_server_asks_for_the_key_again(page: Page):
    """The saved API key never follows a change of server: the editor says to type it again."""
    _, email, _ = new_owner()
    login(page, email)
    open_page(page, "/agentes")
    page.locator("#new-agent-empty").click()
    page.locator("#f-name").fill("Bia")
    page.locator("#tab-modelo").click()
    page.locator("#f-llm_provider").click()
    page.get_by_role("option", name="OpenAI (ou compatível)").click()
    page.locator("#f-llm_api_key").fill("sk-chave-da-loja")
    expect(page.get_by_text("a chave salva só vai para o servidor onde foi cadastrada")).to_be_visible()
    page.locator("#save-agent").click()
    expect(page.locator("[data-sonner-toast]", has_text="Agente salvo")).to_be_visible()
    assert "sk-chave-da-loja" not in page.content()

    page.locator("#f-llm_base_url").fill("https://coletor.example/v1")
    page.locator("#save-agent").click()
    error = page.locator("#agent-error")
    expect(error).to_contain_text("Aba Modelo › chave de API: Você mudou o servidor do modelo")
    expect(error).to_contain_text("informe a chave de API de novo")
    shot(page, "agents_new_server_needs_key")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(error).to_be_visible()
    shot(page, "agents_new_server_needs_key_phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.locator("#f-llm_api_key").fill("sk-para-o-novo-servidor")
    page.locator("#save-agent").click()
    expect(page.locator("[data-sonner-toast]", has_text="Agente salvo").last).to_be_visible()
    expect(page.locator("#agent-error")).to_have_count(0)
