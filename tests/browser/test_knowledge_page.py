"""Conhecimento in a real browser: files dropped on the upload zone are processed by the job worker
(one good, one broken: each gets its own status), the chunks of the good one are previewed, the
search tester finds it, and a learned answer waiting for approval is approved."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from db.models import LearnedAnswer
from db.tenancy import tenant_session
from tests.browser.helpers import login, new_owner, open_page, shot

COMPANY = Path(__file__).resolve().parents[1] / "data" / "company"


def row(page: Page, filename: str):
    return page.locator(f'.doc-row[data-filename="{filename}"]')


def test_upload_preview_search_and_learned_answers(page: Page, worker):
    ws, email, _ = new_owner("Clínica Sorriso")
    with tenant_session(ws.workspace_id) as s:
        s.add(
            LearnedAnswer(
                workspace_id=ws.workspace_id,
                question="Vocês atendem aos domingos?",
                answer="Não, atendemos de segunda a sábado.",
                status="pending",
            )
        )
        s.commit()
    login(page, email)
    open_page(page, "/conhecimento")
    expect(page.locator("#documents-empty")).to_be_visible()
    expect(page.locator("#drive-disabled")).to_be_visible()  # no Google credentials in the tests
    shot(page, "knowledge_empty")

    page.locator("#knowledge-upload input[type=file]").set_input_files(
        [
            {"name": "sobre-nos.md", "mimeType": "text/markdown", "buffer": (COMPANY / "sobre-nos.md").read_bytes()},
            {"name": "quebrado.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n1 0 obj <<"},
        ]
    )
    expect(page.locator("[data-sonner-toast]", has_text="2 arquivos enviados")).to_be_visible()
    good, bad = row(page, "sobre-nos.md"), row(page, "quebrado.pdf")
    expect(good).to_contain_text("Pronto", timeout=40_000)
    expect(bad).to_contain_text("Falhou", timeout=40_000)
    expect(bad.locator(".doc-error")).not_to_be_empty()
    expect(good).to_contain_text("trechos")
    shot(page, "knowledge_documents")

    good.get_by_role("button", name="Ver trechos").click()
    dialog = page.locator("#chunk-preview")
    expect(dialog.locator(".chunk").first).to_be_visible()
    expect(dialog).to_contain_text("estacionamento", ignore_case=True)
    shot(page, "knowledge_chunks")
    page.locator("#preview-close").click()
    expect(dialog).to_be_hidden()

    page.locator("#search-query").fill("tem estacionamento?")
    page.locator("#search-submit").click()
    hits = page.locator("#search-results .search-hit")
    expect(hits.first).to_be_visible()
    expect(hits.first).to_contain_text("estacionamento", ignore_case=True)
    expect(hits.first.locator(".hit-score")).to_contain_text("pontuação")
    shot(page, "knowledge_search")

    learned = page.locator(".learned-row", has_text="domingos")
    expect(learned).to_contain_text("Aguardando aprovação")
    learned.get_by_role("button", name="Aprovar").click()
    expect(page.locator("[data-sonner-toast]", has_text="Resposta aprovada")).to_be_visible()
    expect(learned).to_contain_text("Aprovada")
    learned.get_by_role("button", name="Editar").click()
    page.locator("#learned-edit-form textarea[name=answer]").fill("Sim, aos domingos das 9h às 13h.")
    page.locator("#learned-save").click()
    expect(page.locator("[data-sonner-toast]", has_text="Resposta salva")).to_be_visible()
    expect(learned).to_contain_text("das 9h às 13h")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(good).to_be_visible()
    shot(page, "knowledge_phone")
