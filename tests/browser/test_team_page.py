"""Equipe in a real browser: the owner invites a seller and copies the link; the seller opens it in
another browser, creates a password, lands on the inbox and sees only the inbox and settings."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, new_owner, open_page, path_of, shot

pytestmark = pytest.mark.browser


def test_owner_invites_a_seller_who_then_sees_only_the_inbox(page: Page, browser, app_url):
    _, owner_email, _ = new_owner(company="Ótica Boa Vista", name="Rosa Lima")
    seller_email = f"vendedor-{uuid.uuid4().hex[:8]}@example.com"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    login(page, owner_email)
    open_page(page, "/equipe")
    expect(page.locator(".member-row")).to_have_count(1)
    expect(page.locator("#no-invitations")).to_be_visible()
    shot(page, "team_empty")

    page.locator("#invite-email").fill(seller_email)
    page.locator("#invite-submit").click()
    expect(page.locator("[data-sonner-toast]", has_text="Convite criado")).to_be_visible()
    expect(page.locator("#invite-result")).to_contain_text("Não enviamos e-mails")
    link = page.locator("#invite-link").input_value()
    assert link.startswith(f"{app_url}/convite?token=")
    page.locator("#invite-copy").click()
    expect(page.locator("[data-sonner-toast]", has_text="Link copiado")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(page.locator(".invitation-row", has_text=seller_email)).to_contain_text("Vendedor")
    shot(page, "team_invited")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "team_invited_phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The seller, in a browser of their own.
    ctx = browser.new_context(base_url=app_url, locale="pt-BR", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(20_000)
    errors: list[str] = []
    seller = ctx.new_page()
    seller.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        seller.goto(link)
        expect(seller.get_by_role("heading", name="Entrar na equipe")).to_be_visible()
        expect(seller.locator("#invite-workspace")).to_have_text("Ótica Boa Vista")
        shot(seller, "invite_accept")
        seller.locator("#invite-accept-form input[name=name]").fill("Paulo Vendas")
        seller.locator("#invite-accept-form input[name=password]").fill("senha-do-paulo-1")
        seller.locator("#invite-accept").click()
        seller.wait_for_url(re.compile(r"/inbox$"))
        expect(seller.locator("#workspace-name")).to_have_text("Ótica Boa Vista")
        expect(seller.locator("#user-name")).to_have_text("Paulo Vendas")
        nav = seller.locator("[data-nav]")
        expect(nav).to_have_count(2)
        assert sorted(nav.all_inner_texts()) == ["Configurações", "Inbox"]
        shot(seller, "seller_inbox")

        seller.goto("/agentes")
        seller.wait_for_url(re.compile(r"/inbox$"))
        seller.goto("/equipe")
        seller.wait_for_url(re.compile(r"/inbox$"))

        # Settings shows a seller only their own account.
        open_page(seller, "/configuracoes")
        expect(seller.locator("#section-account")).to_be_visible()
        expect(seller.locator("#section-password")).to_be_visible()
        expect(seller.locator("#section-api-keys")).to_have_count(0)
        expect(seller.locator("#section-company")).to_have_count(0)
        shot(seller, "seller_settings")

        # A used link can't be used again.
        seller.goto(link)
        expect(seller.get_by_role("heading", name="Convite indisponível")).to_be_visible()
        expect(seller.locator("#form-error")).to_contain_text("já foi usado")
    finally:
        ctx.close()
    assert not errors, errors

    # Back on the owner's page: the seller is a member; the owner deactivates them.
    page.reload()
    expect(page.locator("#workspace-name")).to_be_visible()
    row = page.locator(".member-row", has_text=seller_email)
    expect(row).to_be_visible()
    expect(page.locator("#no-invitations")).to_be_visible()
    row.locator(".member-deactivate").click()
    page.locator(".member-deactivate-confirm").click()
    expect(page.locator("[data-sonner-toast]", has_text="Acesso desativado")).to_be_visible()
    expect(row).to_contain_text("Desativado")
    shot(page, "team_members")
    assert path_of(page) == "/equipe"
