"""Sign-in, navigation, sign-out and sign-up in a real browser against the production build."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

COOKIE = "pv_session"
SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS")  # a folder: save the main pages there


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"pv_{name}.png"), full_page=True)


def _session_cookie(page: Page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE), None)


def _login(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    page.locator("#login-form input[name=email]").fill(email)
    page.locator("#login-form input[name=password]").fill(password)
    page.locator("#login-submit").click()


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def test_unauthenticated_visit_ends_on_login(page: Page):
    page.goto("/painel")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    expect(page.locator("#workspace-name")).to_have_count(0)

    # Any other protected page remembers where the visitor wanted to go.
    page.goto("/leads")
    page.wait_for_url(re.compile(r"/login\?next=%2Fleads$"))
    expect(page.locator("#login-form input[name=next]")).to_have_value("/leads")


def test_wrong_password_shows_error_and_sets_no_cookie(page: Page, workspace):
    _, email, _ = workspace
    _login(page, email, "senha-errada-123")
    page.wait_for_url(re.compile(r"/login\?erro=credenciais"))
    expect(page.locator("#form-error")).to_contain_text("E-mail ou senha incorretos.")
    assert _session_cookie(page) is None


def test_login_lands_on_painel_with_httponly_cookie_and_navigates(page: Page, workspace):
    _, email, password = workspace
    page.goto("/login")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    _shot(page, "login")

    _login(page, email, password)
    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Loja Teste")
    expect(page.locator("#user-name")).to_have_text("Dona Maria")
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.locator("h1")).to_have_text("Painel")
    _shot(page, "painel")

    cookie = _session_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    # The page's JavaScript cannot read the session.
    assert COOKIE not in page.evaluate("document.cookie")

    page.locator('[data-nav="agentes"]').click()
    page.wait_for_url(re.compile(r"/agentes$"))
    expect(page.locator("h1")).to_have_text("Agentes")
    expect(page.locator('[data-nav="agentes"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("#workspace-name")).to_have_text("Loja Teste")

    # A full reload keeps the session (the websocket handshake carries the cookie again).
    page.reload()
    expect(page.locator("h1")).to_have_text("Agentes")
    expect(page.locator("#workspace-name")).to_have_text("Loja Teste")

    # Signed in, /login and / send the user to the panel.
    page.goto("/login")
    page.wait_for_url(re.compile(r"/painel$"))
    page.goto("/")
    page.wait_for_url(re.compile(r"/painel$"))


def test_login_returns_to_the_requested_page(page: Page, workspace):
    _, email, password = workspace
    page.goto("/canais")
    page.wait_for_url(re.compile(r"/login\?next=%2Fcanais$"))
    page.locator("#login-form input[name=email]").fill(email)
    page.locator("#login-form input[name=password]").fill(password)
    page.locator("#login-submit").click()
    page.wait_for_url(re.compile(r"/canais$"))
    expect(page.locator("h1")).to_have_text("Canais")


def test_sair_logs_out(page: Page, workspace):
    _, email, password = workspace
    _login(page, email, password)
    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Loja Teste")

    page.get_by_role("button", name="Sair").click()
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    assert _session_cookie(page) is None

    page.goto("/painel")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("#workspace-name")).to_have_count(0)


def test_signup_creates_workspace_and_lands_on_painel(page: Page, pg):
    from runtime.auth.accounts import find_user_id

    email = f"nova-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/login")
    page.locator("#signup-link").click()
    page.wait_for_url(re.compile(r"/cadastro$"))
    expect(page.get_by_role("heading", name="Criar conta")).to_be_visible()
    _shot(page, "cadastro")
    form = page.locator("#signup-form")
    form.locator("input[name=company]").fill("Padaria Pão Quente")
    form.locator("input[name=name]").fill("João da Silva")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill("uma-senha-boa-1")
    page.locator("#signup-submit").click()

    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Padaria Pão Quente")
    expect(page.locator("#user-name")).to_have_text("João da Silva")
    assert _session_cookie(page) is not None
    assert find_user_id(email) is not None

    # The same e-mail again: the API's pt-BR message is shown on the sign-up page.
    page.context.clear_cookies()
    page.goto("/cadastro")
    form.locator("input[name=company]").fill("Outra Empresa")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill("uma-senha-boa-1")
    page.locator("#signup-submit").click()
    page.wait_for_url(re.compile(r"/cadastro\?erro="))
    expect(page.locator("#form-error")).to_contain_text("Já existe uma conta com este e-mail.")
    assert _session_cookie(page) is None


def test_demo_login_printed_by_make_run_works(page: Page):
    """The launcher created the demo workspace and kept its login beside the data."""
    email, password = (Path(os.environ["DATA_DIR"]) / "demo-login.txt").read_text().split()[:2]
    _login(page, email, password)
    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Loja Demo")
