"""Configurações in a real browser: an API key is shown once and works; the password changes."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from runtime.auth import accounts
from tests.browser.helpers import PASSWORD, login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


def _api_status(app_url: str, key: str) -> int:
    return httpx.get(f"{app_url}/api/v1/workspace", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code


def test_api_key_is_shown_once_and_works_then_revoked(page: Page, app_url):
    _, email, _ = new_owner(company="Padaria Pão Quente")
    login(page, email)
    open_page(page, "/configuracoes")
    expect(page.locator("#section-api-keys")).to_be_visible()
    expect(page.locator("#no-api-keys")).to_be_visible()
    expect(page.locator("#section-integrations")).to_contain_text("Login com Google")
    shot(page, "settings_owner")

    page.locator("#api-key-name").fill("Integração CRM")
    page.locator("#api-key-create").click()
    expect(page.locator("[data-sonner-toast]", has_text="Chave criada")).to_be_visible()
    key = page.locator("#new-api-key").input_value()
    assert key.startswith("pv_")
    expect(page.locator(".api-key-row", has_text="Integração CRM")).to_be_visible()
    shot(page, "settings_api_key_created")
    assert _api_status(app_url, key) == 200
    page.locator("#new-api-key-done").click()  # "Já copiei": gone from the page too
    expect(page.locator("#new-api-key")).to_be_hidden()
    expect(page.locator("#new-api-key")).to_have_value("")

    # Shown once: after a reload only the prefix is left.
    page.reload()
    expect(page.locator(".api-key-row", has_text="Integração CRM")).to_be_visible()
    expect(page.locator("#new-api-key")).to_be_hidden()
    expect(page.locator("#new-api-key")).to_have_value("")
    assert key not in page.content()

    page.locator(".api-key-row", has_text="Integração CRM").locator(".api-key-revoke").click()
    expect(page.locator("[data-sonner-toast]", has_text="Chave revogada")).to_be_visible()
    expect(page.locator(".api-key-row", has_text="Integração CRM")).to_contain_text("Revogada")
    assert _api_status(app_url, key) == 401

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "settings_owner_phone")


def test_password_change(page: Page):
    _, email, _ = new_owner(company="Loja das Flores")
    login(page, email)
    open_page(page, "/configuracoes")

    page.locator("#current-password").fill("senha-errada-000")
    page.locator("#new-password").fill("nova-senha-forte-1")
    page.locator("#confirm-password").fill("nova-senha-forte-1")
    page.locator("#password-save").click()
    expect(page.locator("[data-sonner-toast]", has_text="senha atual está incorreta")).to_be_visible()

    page.locator("#current-password").fill(PASSWORD)
    page.locator("#new-password").fill("nova-senha-forte-1")
    page.locator("#confirm-password").fill("nova-senha-forte-1")
    page.locator("#password-save").click()
    expect(page.locator("[data-sonner-toast]", has_text="Senha alterada")).to_be_visible()
    shot(page, "settings_password_changed")
    assert accounts.authenticate(email, PASSWORD) is None
    assert accounts.authenticate(email, "nova-senha-forte-1") is not None
    # This browser stays signed in.
    open_page(page, "/configuracoes")
