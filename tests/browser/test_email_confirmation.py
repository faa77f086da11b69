"""E-mail confirmation in a real browser: a password sign-up sees a small notice above the panel
("reenviar" limited), the e-mailed link (real SMTP server on loopback, sent by the job worker) opens
/verificar-email, which confirms on the button; then the notice is gone. Desktop and 390 px."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD, open_page, shot, toast
from tests.conftest import wait_until
from tests.fakes.smtp import body_text

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
PHONE = {"width": 390, "height": 844}


def test_sign_up_confirm_the_email_from_the_link_and_the_notice_goes(page: Page, smtp):
    email = f"dona-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/cadastro")
    form = page.locator("#signup-form")
    form.locator("input[name=company]").fill("Doceria Flor de Açúcar")
    form.locator("input[name=name]").fill("Marta Lima")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    page.locator("#signup-submit").click()
    page.wait_for_url(re.compile(r"/painel$"))
    banner = page.locator("#email-confirm-banner")
    expect(banner).to_contain_text(f"enviamos um link para {email}")
    expect(page.locator("h1")).to_have_text("Painel")  # the page is all there, the notice is small
    shot(page, "email_confirm_banner")
    page.set_viewport_size(PHONE)
    expect(banner).to_be_visible()
    shot(page, "email_confirm_banner_390")
    page.set_viewport_size({"width": 1280, "height": 800})

    # "Reenviar": two more links, then the hourly limit says when to ask again.
    for _ in range(2):
        page.locator("#email-confirm-resend").click()
        expect(toast(page)).to_contain_text("Enviamos um novo link de confirmação")
        page.locator("[data-sonner-toast]").first.wait_for(state="detached", timeout=15_000)
    page.locator("#email-confirm-resend").click()
    expect(toast(page)).to_contain_text("3 links na última hora")

    open_page(page, "/equipe")  # the notice is on every panel page
    expect(banner).to_be_visible()

    def first_link():
        mine = [m for m in smtp.messages if m["To"] == email and m["Subject"].startswith("Confirme")]
        return mine[0] if mine else None

    msg = wait_until(first_link, timeout=30)
    link = re.search(r"http\S+/verificar-email\?token=\S+", body_text(msg)).group()
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirmar e-mail")).to_be_visible()
    expect(page.locator("#verify-form input[disabled]").first).to_have_value(email)
    expect(page.locator("#verify-form")).to_contain_text("Não foi você que criou esta conta?")
    shot(page, "email_verify_page")
    page.set_viewport_size(PHONE)
    shot(page, "email_verify_page_390")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.locator("#verify-submit").click()
    page.wait_for_url(re.compile(r"/verificar-email\?confirmado=1$"))
    expect(page.get_by_role("heading", name="E-mail confirmado")).to_be_visible()
    shot(page, "email_verify_done")
    page.locator("#verify-continue").click()
    page.wait_for_url(re.compile(r"/painel$"))
    expect(page.locator("#workspace-name")).to_have_text("Doceria Flor de Açúcar")
    expect(page.locator("#email-confirm-banner")).to_have_count(0)

    page.goto(link)  # used once already
    expect(page.get_by_role("heading", name="Link indisponível")).to_be_visible()
    expect(page.locator("#form-error")).to_contain_text("já foi usado")


def test_the_notice_after_a_google_takeover(page: Page):
    """What /auth/google/callback sends the new owner to after taking an unconfirmed account over."""
    from tests.browser.helpers import login, new_owner

    _, email, _ = new_owner(company="Loja Retomada")
    login(page, email)
    page.goto("/painel?aviso=conta_protegida")
    notice = page.locator("#takeover-notice")
    expect(notice).to_contain_text("encerramos as sessões abertas e removemos a senha desse cadastro")
    expect(page.locator("#email-confirm-banner")).to_have_count(0)
    shot(page, "takeover_notice")
    page.set_viewport_size(PHONE)
    shot(page, "takeover_notice_390")
