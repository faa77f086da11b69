"""Canais in a real browser: connect a Z-API number through the form (pointed at the local Z-API
fake), copy the webhook URL, send a test message and see it reach the fake."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.fakes import zapi

from .helpers import login, new_owner, open_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake_zapi():
    fake = zapi.FakeZapi()
    with fake.running():
        yield fake


def test_connect_a_channel_copy_its_webhook_and_send_a_test_message(page: Page, fake_zapi):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _, email, _ = new_owner("Ótica Visão", "Carla Dias")
    login(page, email)
    open_page(page, "/canais")
    expect(page.get_by_role("heading", name="Nenhum canal conectado")).to_be_visible()
    shot(page, "canais_vazio")

    page.locator("#connect-open-empty").click()
    expect(page.locator("#connect-dialog")).to_be_visible()
    expect(page.locator("#connect-form-cloud_api input[name=access_token]")).to_have_attribute("type", "password")
    page.locator("#provider-tab-zapi").click()
    form = page.locator("#connect-form-zapi")
    form.locator("input[name=name]").fill("WhatsApp da loja")
    form.locator("input[name=phone_number]").fill("+55 11 95555-0000")
    form.locator("input[name=instance_id]").fill(fake_zapi.instance_id)
    form.locator("input[name=token]").fill(fake_zapi.token)
    form.locator("input[name=client_token]").fill(fake_zapi.client_token)
    form.locator("input[name=api_base_url]").fill(fake_zapi.base_url)
    shot(page, "canais_conectar")
    page.locator("#connect-submit-zapi").click()

    expect(page.locator("[data-sonner-toast]", has_text="Canal conectado")).to_be_visible()
    expect(page.locator("#connect-dialog")).to_have_count(0)
    card = page.locator(".channel-card", has_text="WhatsApp da loja")
    expect(card).to_be_visible()
    expect(card.get_by_text("Aguardando o primeiro evento")).to_be_visible()
    expect(card.get_by_text("+5511955550000")).to_be_visible()
    webhook = card.locator("[data-copy=webhook]")
    # The secret in the URL is masked on the card: only the copy carries it.
    expect(webhook).to_contain_text(re.compile(r"/webhooks/zapi/[0-9a-f-]{36}\?secret=•+$"))
    # Secrets never reach the page: only "configurado".
    expect(card.locator("[data-credential=token]")).to_contain_text("configurado")
    assert fake_zapi.token not in page.content() and fake_zapi.client_token not in page.content()

    card.locator("[data-copy-button=webhook]").click()
    expect(page.locator("[data-sonner-toast]", has_text="Endereço do webhook copiado")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(webhook.inner_text().split("?")[0] + "?secret=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", copied.split("?secret=", 1)[1])
    shot(page, "canais_conectado")

    card.locator(".channel-test").click()
    test_form = page.locator("#test-form")
    test_form.locator("input[name=to]").fill("+55 11 98888-7766")
    test_form.locator("textarea[name=text]").fill("Teste pelo painel")
    page.locator("#test-send").click()
    expect(
        page.locator("[data-sonner-toast]", has_text="Mensagem de teste enviada para +55•••••••7766")
    ).to_be_visible()
    sent = [r.json for r in fake_zapi.sent if r.json.get("phone") == "5511988887766"]
    assert [m["message"] for m in sent] == ["Teste pelo painel"]

    page.set_viewport_size({"width": 390, "height": 844})
    expect(card).to_be_visible()
    shot(page, "canais_celular")


def test_a_refused_test_message_shows_the_error_on_the_card(page: Page, fake_zapi):
    _, email, _ = new_owner("Padaria Pão Quente", "Rui")
    login(page, email)
    open_page(page, "/canais")
    page.locator("#connect-open-empty").click()
    page.locator("#provider-tab-zapi").click()
    form = page.locator("#connect-form-zapi")
    form.locator("input[name=name]").fill("Balcão")
    form.locator("input[name=instance_id]").fill(fake_zapi.instance_id)
    form.locator("input[name=token]").fill("token-errado")
    form.locator("input[name=client_token]").fill(fake_zapi.client_token)
    form.locator("input[name=api_base_url]").fill(fake_zapi.base_url)
    page.locator("#connect-submit-zapi").click()
    card = page.locator(".channel-card", has_text="Balcão")
    expect(card).to_be_visible()

    card.locator(".channel-test").click()
    page.locator("#test-form input[name=to]").fill("+55 11 97777-6655")
    page.locator("#test-send").click()
    expect(page.locator("[data-sonner-toast]", has_text="O provedor não aceitou a mensagem")).to_be_visible()
    page.keyboard.press("Escape")
    expect(card.locator(".channel-last-error")).to_contain_text("mensagem de teste falhou")
    expect(card.get_by_text("Com erro")).to_be_visible()
    shot(page, "canais_erro")


def test_cloud_api_verify_token_edit_disable_and_delete(page: Page):
    _, email, _ = new_owner("Clínica Bem Estar", "Bia")
    login(page, email)
    open_page(page, "/canais")
    page.locator("#connect-open-empty").click()
    form = page.locator("#connect-form-cloud_api")
    form.locator("input[name=name]").fill("Oficial")
    form.locator("input[name=phone_number_id]").fill("106540352242922")
    form.locator("input[name=access_token]").fill("EAAG-token-secreto-de-teste")
    form.locator("input[name=app_secret]").fill("segredo-do-app")
    page.locator("#connect-submit-cloud_api").click()  # verify token left blank: generated

    card = page.locator(".channel-card", has_text="Oficial")
    expect(card.locator("[data-copy=webhook]")).to_contain_text("/webhooks/cloud-api/")
    expect(card.locator("[data-copy=verify-token]")).to_have_text(re.compile(r"^•+[A-Za-z0-9_-]{4}$"))
    assert "EAAG-token-secreto-de-teste" not in page.content() and "segredo-do-app" not in page.content()
    shot(page, "canais_cloud_api")

    for close in page.locator("[data-sonner-toast] [data-close-button]").all():  # the shots show the next toast
        close.click()
    card.locator(".channel-edit").click()
    edit = page.locator("#edit-form")
    expect(edit.locator("input[name=name]")).to_have_value("Oficial")
    expect(edit.locator("input[name=access_token]")).to_have_value("")
    edit.locator("input[name=name]").fill("Oficial Matriz")
    # A new API address with the secrets left blank: refused, saying which ones to type again.
    expect(page.get_by_text("as salvas só vão para o servidor onde foram cadastradas")).to_be_visible()
    edit.locator("input[name=api_base_url]").fill("https://outro-servidor.example.com")
    page.locator("#edit-submit").click()
    refused = page.locator("[data-sonner-toast]", has_text="Você mudou o endereço da API")
    expect(refused).to_contain_text("digite de novo Token de acesso")
    page.wait_for_timeout(500)  # the toast's slide-in, for the screenshot
    shot(page, "canais_novo_endereco_pede_credenciais")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(refused).to_be_visible()
    shot(page, "canais_novo_endereco_pede_credenciais_celular")
    page.set_viewport_size({"width": 1280, "height": 800})
    edit.locator("input[name=api_base_url]").fill("")
    page.locator("#edit-submit").click()
    expect(page.locator("[data-sonner-toast]", has_text="Canal atualizado")).to_be_visible()
    card = page.locator(".channel-card", has_text="Oficial Matriz")
    expect(card).to_be_visible()

    card.locator(".channel-active").click()
    expect(card.get_by_text("Desativado")).to_be_visible()
    expect(card.locator(".channel-test")).to_be_disabled()

    card.locator(".channel-delete").click()
    page.locator("#delete-confirm").click()
    expect(page.locator("[data-sonner-toast]", has_text="Canal excluído")).to_be_visible()
    expect(page.get_by_role("heading", name="Nenhum canal conectado")).to_be_visible()
