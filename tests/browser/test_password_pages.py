"""Forgotten passwords in a real browser: "Esqueci minha senha" on the login page e-mails a link
(a real SMTP server on loopback, sent by the job worker) that sets a new password; and an owner
makes a link on Equipe for a seller who forgot theirs."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from db.models import Role
from runtime.access import Principal
from runtime.auth import invitations
from runtime.panel import team
from tests.browser.helpers import login, new_owner, open_page, shot
from tests.conftest import wait_until
from tests.fakes.smtp import body_text

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]


def test_forgot_password_by_email_then_sign_in_with_the_new_one(page: Page, smtp):
    _, email, old_password = new_owner(company="Padaria Pão Quente", name="Joana Prado")
    page.goto("/login")
    page.locator("#forgot-link").click()
    expect(page.get_by_role("heading", name="Esqueci minha senha")).to_be_visible()
    page.locator("#forgot-form input[name=email]").fill(email)
    page.locator("#forgot-submit").click()
    expect(page.locator("#form-notice")).to_contain_text("Se existir uma conta com este e-mail")
    shot(page, "password_forgot_sent")

    msg = wait_until(lambda: next((m for m in smtp.messages if m["To"] == email), None), timeout=30)
    link = re.search(r"http\S+/redefinir-senha\?token=\S+", body_text(msg)).group()
    page.goto(link)
    expect(page.get_by_role("heading", name="Nova senha")).to_be_visible()
    page.locator("#reset-form input[name=password]").fill("senha-nova-joana-1")
    page.locator("#reset-form input[name=confirm]").fill("senha-diferente-2")
    page.locator("#reset-submit").click()
    expect(page.locator("#form-error")).to_have_text("As duas senhas não são iguais.")
    page.locator("#reset-form input[name=password]").fill("senha-nova-joana-1")
    page.locator("#reset-form input[name=confirm]").fill("senha-nova-joana-1")
    shot(page, "password_reset_form")
    page.locator("#reset-submit").click()
    page.wait_for_url(re.compile(r"/login\?aviso=senha_redefinida$"))
    expect(page.locator("#form-notice")).to_have_text("Senha redefinida. Entre com a nova senha.")

    login(page, email, old_password, expect_path=None)
    expect(page.locator("#form-error")).to_have_text("E-mail ou senha incorretos.")
    login(page, email, "senha-nova-joana-1")

    page.goto(link)  # used once already
    expect(page.get_by_role("heading", name="Link indisponível")).to_be_visible()
    expect(page.locator("#form-error")).to_contain_text("já foi usado")


def test_an_owner_makes_a_new_password_link_for_a_seller(page: Page, browser, app_url):
    ws, owner_email, _ = new_owner(company="Ótica Central", name="Rita Alves")
    seller_email = f"vendedor-{uuid.uuid4().hex[:8]}@example.com"
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    invite = team.invite(owner, seller_email, "seller")["link"]
    invitations.accept(parse_qs(urlsplit(invite).query)["token"][0], "Beto Souza", "senha-esquecida-1")

    login(page, owner_email)
    open_page(page, "/equipe")
    page.locator(".member-row", has_text=seller_email).locator(".member-password-link").click()
    expect(page.locator("[data-sonner-toast]", has_text="Link de nova senha gerado")).to_be_visible()
    expect(page.locator("#invite-result")).to_contain_text(f"Link de nova senha para {seller_email}")
    expect(page.locator("#password-link-explain")).to_contain_text("Vale por 24 horas")
    link = page.locator("#invite-link").input_value()
    assert "/redefinir-senha?token=" in link
    shot(page, "team_password_link")

    ctx = browser.new_context(base_url=app_url, locale="pt-BR", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(20_000)
    seller = ctx.new_page()
    try:
        seller.goto(link)
        expect(seller.locator("#reset-form input[disabled]")).to_have_value(seller_email)
        seller.locator("#reset-form input[name=password]").fill("senha-lembrada-2")
        seller.locator("#reset-form input[name=confirm]").fill("senha-lembrada-2")
        seller.locator("#reset-submit").click()
        seller.wait_for_url(re.compile(r"/login\?aviso=senha_redefinida$"))
        login(seller, seller_email, "senha-lembrada-2", expect_path="/inbox")
    finally:
        ctx.close()
