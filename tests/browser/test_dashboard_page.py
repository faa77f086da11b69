"""Painel in a real browser: the first steps of a new workspace, KPIs over seeded data, the period
and agent filters changing the numbers, screenshots at desktop and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, new_owner, open_page, shot
from tests.panel.test_dashboard import seed_sample

pytestmark = pytest.mark.browser


def kpi(page: Page, name: str):
    return page.locator(f"#kpi-{name} .kpi-value")


def custom_range(page: Page, start: str, end: str) -> None:
    page.locator("#period-presets").get_by_role("radio", name="Personalizado").click()
    page.locator("#custom-start").fill(start)
    page.locator("#custom-end").fill(end)
    page.locator("#custom-apply").click()


def test_new_workspace_sees_first_steps_and_empty_state(page: Page):
    _, email, _ = new_owner("Padaria Nova", "Rui Lima")
    login(page, email)  # the panel's home is the Painel
    steps = page.locator("#getting-started")
    expect(steps).to_be_visible()
    expect(steps).to_contain_text("0 de 4 concluídos")
    expect(steps.locator("[data-step=channel] a")).to_have_attribute("href", "/canais")
    expect(page.locator("#dashboard-empty")).to_contain_text("Nenhuma conversa neste período")
    expect(kpi(page, "conversations")).to_have_text("0")
    expect(kpi(page, "followup")).to_have_text("0")
    expect(page.locator("#kpi-followup")).to_contain_text("0 follow-ups enviados")
    shot(page, "dashboard_new_workspace")


def test_kpis_and_filters_change_the_numbers(page: Page):
    ws, email, _ = new_owner("Loja Filtros", "Bia Reis")
    seed_sample(ws.workspace_id)
    login(page, email)
    open_page(page, "/painel")
    expect(page.locator("#getting-started")).to_contain_text("3 de 4 concluídos")  # knowledge still missing

    custom_range(page, "2026-11-10", "2026-11-12")
    expect(page.locator("#period-label")).to_contain_text("10/11 a 12/11 · 3 dias")
    expect(kpi(page, "conversations")).to_have_text("4")
    expect(kpi(page, "leads")).to_have_text("3")
    expect(kpi(page, "qualification")).to_have_text("66,7%")
    expect(kpi(page, "handoff")).to_have_text("25,0%")
    expect(kpi(page, "first-response")).to_have_text("1 min 30 s")
    expect(kpi(page, "messages")).to_have_text("13")
    expect(kpi(page, "followup")).to_have_text("1")  # one lead wrote back after a follow-up step
    expect(page.locator("#tokens-card")).to_contain_text("gemini:gemini-2.5-flash")
    expect(page.locator("#chart-activity .js-plotly-plot")).to_be_visible()
    expect(page.locator("#chart-routes .js-plotly-plot")).to_be_visible()
    shot(page, "dashboard_desktop")

    page.locator("#agent-filter").click()
    page.get_by_role("option", name="Agente A").click()
    expect(kpi(page, "conversations")).to_have_text("3")
    expect(kpi(page, "messages")).to_have_text("8")
    expect(kpi(page, "handoff")).to_have_text("50,0%")

    # One day only: the 11th (local time) has one conversation of agent A.
    custom_range(page, "2026-11-11", "2026-11-11")
    expect(kpi(page, "conversations")).to_have_text("1")
    expect(kpi(page, "messages")).to_have_text("2")

    # A backwards range is refused with a message; the numbers stay.
    custom_range(page, "2026-11-12", "2026-11-10")
    expect(page.locator("[data-sonner-toast]", has_text="data final deve ser igual ou posterior")).to_be_visible()
    expect(kpi(page, "conversations")).to_have_text("1")

    page.set_viewport_size({"width": 390, "height": 844})
    custom_range(page, "2026-11-10", "2026-11-12")
    expect(kpi(page, "conversations")).to_have_text("3")
    shot(page, "dashboard_phone")
