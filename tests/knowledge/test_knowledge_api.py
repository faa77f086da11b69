"""The knowledge base through the REST API and the real worker: upload the sample company, ask
Portuguese questions, replace and delete documents, and bad files failing alone."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests.conftest import wait_until
from tests.fakes.servers import serve_in_thread

COMPANY = Path(__file__).resolve().parent.parent / "data" / "company"


@pytest.fixture
def api(pg, make_workspace):
    ws = make_workspace("Clínica")
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        c.workspace_id = ws.workspace_id
        yield c


def upload(api, name: str, data: bytes | None = None, **form) -> httpx.Response:
    content = data if data is not None else (COMPANY / name).read_bytes()
    return api.post("/api/v1/knowledge/documents", files={"file": (name, io.BytesIO(content))}, data=form)


def settled(api, doc_id: str) -> dict:
    def done():
        d = api.get(f"/api/v1/knowledge/documents/{doc_id}").json()
        return d if d["status"] in ("ready", "failed") else None

    return wait_until(done, timeout=30)


def ask(api, question: str, k: int = 5) -> list[dict]:
    r = api.post("/api/v1/knowledge/search", json={"query": question, "k": k})
    assert r.status_code == 200, r.text
    return r.json()


def test_sample_company_is_searchable_in_portuguese(api, worker):
    ids = {}
    for path in sorted(COMPANY.iterdir()):
        r = upload(api, path.name)
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued" and r.json()["created"] is True
        ids[path.name] = r.json()["id"]
    docs = {name: settled(api, i) for name, i in ids.items()}
    assert {n: d["status"] for n, d in docs.items()} == dict.fromkeys(ids, "ready"), docs
    assert docs["politicas-e-procedimentos.pdf"]["pages"] >= 3
    assert all(d["chunk_count"] > 0 and d["progress"] == 100 for d in docs.values())

    # Accents or not, colloquial or not: the right file comes first.
    cases = {
        "vcs abrem sabado?": "horarios.png",
        "Vocês abrem no sábado?": "horarios.png",
        "aceita unimed?": "convenios.csv",
        "tem estacionamento?": "sobre-nos.md",
        "qnto custa clareamento": "tabela-de-precos.xlsx",
    }
    for question, expected in cases.items():
        hits = ask(api, question)
        assert hits and hits[0]["filename"] == expected, (question, [h["filename"] for h in hits])
    pdf_hits = [h for h in ask(api, "posso parcelar no cartão?", k=10) if h["filename"].endswith(".pdf")]
    assert pdf_hits and pdf_hits[0]["page"] >= 1 and pdf_hits[0]["matched_by"] == ["text"]

    detail = api.get(f"/api/v1/knowledge/documents/{ids['tabela-de-precos.xlsx']}").json()
    assert detail["chunks"] and "R$" in " ".join(c["content"] for c in detail["chunks"])


def test_identical_content_is_stored_once(api, worker):
    first = upload(api, "sobre-nos.md").json()
    again = upload(api, "copia.md", (COMPANY / "sobre-nos.md").read_bytes())
    assert again.status_code == 202 and again.json()["created"] is False and again.json()["id"] == first["id"]
    assert len(api.get("/api/v1/knowledge/documents").json()) == 1


def test_reuploading_a_changed_file_replaces_its_chunks(api, worker):
    doc = upload(api, "promo.txt", "Promoção de inverno: limpeza por R$ 99 até julho.".encode()).json()
    settled(api, doc["id"])
    assert ask(api, "promoção de inverno")[0]["filename"] == "promo.txt"
    new = upload(api, "promo.txt", "Promoção de verão: clareamento por R$ 499 em janeiro.".encode()).json()
    assert new["id"] == doc["id"] and new["created"] is True
    settled(api, doc["id"])
    contents = " ".join(h["content"] for h in ask(api, "promoção", k=10))
    assert "verão" in contents and "inverno" not in contents
    assert len(api.get("/api/v1/knowledge/documents").json()) == 1


def test_deleting_a_document_removes_its_chunks(api, worker):
    doc = upload(api, "sobre-nos.md").json()
    settled(api, doc["id"])
    assert ask(api, "estacionamento")
    assert api.delete(f"/api/v1/knowledge/documents/{doc['id']}").status_code == 204
    assert ask(api, "estacionamento") == []
    assert api.get(f"/api/v1/knowledge/documents/{doc['id']}").status_code == 404


def test_bad_files_fail_alone_with_a_reason_and_the_worker_goes_on(api, worker):
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(100, 100)
    w.encrypt("segredo")
    encrypted = io.BytesIO()
    w.write(encrypted)
    bad = {
        "protegido.pdf": encrypted.getvalue(),
        "quebrado.pdf": b"%PDF-1.7\n1 0 obj <<",
        "planilha.exe": b"MZ\x90\x00\x03" + bytes(200),
    }
    ids = {name: upload(api, name, data).json()["id"] for name, data in bad.items()}
    good = upload(api, "sobre-nos.md").json()["id"]
    results = {name: settled(api, i) for name, i in ids.items()}
    assert all(r["status"] == "failed" and r["error"] for r in results.values()), results
    assert "senha" in results["protegido.pdf"]["error"].lower()
    assert settled(api, good)["status"] == "ready"

    assert upload(api, "vazio.txt", b"").status_code == 422
    assert "vazio" in upload(api, "vazio.txt", b"").json()["detail"].lower()


def test_oversize_upload_is_refused(api, monkeypatch):
    from runtime.config import get_settings

    monkeypatch.setenv("KNOWLEDGE_MAX_BYTES", "2048")
    get_settings.cache_clear()
    try:
        r = upload(api, "grande.txt", b"a" * 5000)
    finally:
        get_settings.cache_clear()
    assert r.status_code == 422 and "limite" in r.json()["detail"]


def test_web_pages_by_url_and_a_url_that_times_out(api, worker, monkeypatch):
    async def page(_):
        return HTMLResponse(
            "<html><head><title>Blog da Clínica</title></head><body><nav>menu</nav><article><h1>Aparelho"
            " invisível</h1><p>O alinhador transparente custa a partir de R$ 6.900 e o tratamento dura"
            " de 6 a 18 meses, com consultas de acompanhamento mensais.</p></article></body></html>"
        )

    async def slow(_):
        import asyncio

        await asyncio.sleep(3)
        return HTMLResponse("<p>tarde demais</p>")

    app = Starlette(routes=[Route("/blog/alinhador", page), Route("/lento", slow)])
    with serve_in_thread(app) as base:
        ok = api.post("/api/v1/knowledge/documents", json={"url": f"{base}/blog/alinhador"})
        assert ok.status_code == 202, ok.text
        page_doc = settled(api, ok.json()["id"])
        from runtime.config import get_settings

        monkeypatch.setenv("KNOWLEDGE_URL_TIMEOUT_SECONDS", "0.5")  # the worker thread reads it too
        get_settings.cache_clear()
        try:
            late = api.post("/api/v1/knowledge/documents", json={"url": f"{base}/lento"}).json()
            failed = settled(api, late["id"])
        finally:
            monkeypatch.delenv("KNOWLEDGE_URL_TIMEOUT_SECONDS")
            get_settings.cache_clear()
    assert page_doc["status"] == "ready", page_doc
    assert ask(api, "quanto custa o alinhador invisível?")[0]["document_id"] == ok.json()["id"]
    assert failed["status"] == "failed" and "tempo" in failed["error"].lower()
    assert api.post("/api/v1/knowledge/documents", json={"url": "ftp://x"}).status_code == 422


def test_workspaces_never_see_each_others_knowledge(api, make_workspace, worker):
    doc = upload(api, "convenios.csv").json()
    settled(api, doc["id"])
    other = make_workspace("Outra")
    key = create_api_key(other.workspace_id, "o").key
    h = {"Authorization": f"Bearer {key}"}
    assert api.post("/api/v1/knowledge/search", json={"query": "unimed"}, headers=h).json() == []
    assert api.get("/api/v1/knowledge/documents", headers=h).json() == []
    assert api.get(f"/api/v1/knowledge/documents/{doc['id']}", headers=h).status_code == 404
    assert api.delete(f"/api/v1/knowledge/documents/{doc['id']}", headers=h).status_code == 404
    assert ask(api, "unimed")


def test_empty_and_stopword_queries(api):
    assert api.post("/api/v1/knowledge/search", json={"query": ""}).status_code == 422
    assert ask(api, "de que o a") == []
