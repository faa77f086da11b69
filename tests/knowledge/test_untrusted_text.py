"""PostgreSQL refuses NUL (and UTF-8 cannot carry a lone surrogate): one such character in a file,
its name or its text must not fail the document. Uploaded through the REST API, ingested by the
real worker, searched back."""

from __future__ import annotations

import io
import uuid

import pytest
from fastapi.testclient import TestClient

from db.models import KnowledgeDocument
from db.tenancy import tenant_session
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests import bombs
from tests.conftest import wait_until

# A ToUnicode map that turns "A" into "A", "B" into a lone surrogate and "C" into NUL: what a
# broken PDF font gives pypdf.
CMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Quebrado def
1 begincodespacerange <00> <FF> endcodespacerange
3 beginbfchar <41> <0041> <42> <D800> <43> <0000> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


@pytest.fixture
def api(pg, make_workspace):
    ws = make_workspace("Loja")
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def ingest(api, name: str, data: bytes) -> dict:
    r = api.post("/api/v1/knowledge/documents", files={"file": (name, io.BytesIO(data))})
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]

    def done():
        d = api.get(f"/api/v1/knowledge/documents/{doc_id}").json()
        return d if d["status"] in ("ready", "failed") else None

    return wait_until(done, timeout=30)


def chunks(doc: dict) -> str:
    return "\n".join(c["content"] for c in doc["chunks"])


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("precos.txt", b"Limpeza\x00 custa R$ 180,00.", "Limpeza custa R$ 180,00."),
        ("convenios.csv", b"convenio;desconto\nUnimed\x00;10%\n", "convenio: Unimed; desconto: 10%"),
        (
            "faq.docx",
            bombs.docx_with_body(b"<w:p><w:r><w:t>Aceitamos\x00 Pix.</w:t></w:r></w:p>"),
            "Aceitamos Pix.",
        ),
        ("fonte.pdf", bombs.pdf_with_text(b"BT /F1 12 Tf 72 700 Td (AABCA) Tj ET", CMAP), "AA\ufffdA"),
        (
            "pagina.html",
            "<html><head><title>Horários</title></head><body><p>Abrimos\x00 aos sábados.</p></body></html>".encode(),
            "Abrimos aos sábados.",
        ),
    ],
)
def test_a_nul_or_a_lone_surrogate_in_the_text_is_dropped_and_the_document_ingests(
    api, worker, name: str, data: bytes, expected: str
):
    doc = ingest(api, name, data)
    assert doc["status"] == "ready", doc["error"]
    assert expected in chunks(doc)
    assert "\x00" not in chunks(doc)


def test_a_nul_in_the_file_name_is_refused_by_the_api_and_dropped_by_the_panel(api, make_workspace, worker):
    """An integrator's request with a NUL is refused with a clear 422 (the REST rule, one place:
    runtime/api/inputs.py); a file an owner drops on Conhecimento has its name cleaned and ingests."""
    from db.models import Role
    from runtime.access import Principal
    from runtime.panel.knowledge import upload_documents

    # httpx would percent-encode the NUL: the multipart body is written by hand, as any client may
    body = (
        b"--limite\r\n"
        b'Content-Disposition: form-data; name="file"; filename="tabela\x00 de precos.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"Limpeza custa R$ 180,00.\r\n"
        b"--limite--\r\n"
    )
    r = api.post(
        "/api/v1/knowledge/documents", content=body, headers={"Content-Type": "multipart/form-data; boundary=limite"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"], r.text

    ws = make_workspace("Loja do painel")
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    [added] = upload_documents(owner, [("tabela\x00 de precos.txt", b"Limpeza custa R$ 180,00.")])
    assert added["ok"] and added["filename"] == "tabela de precos.txt", added
    with tenant_session(ws.workspace_id) as s:
        wait_until(lambda: s.get(KnowledgeDocument, uuid.UUID(added["id"]), populate_existing=True).status == "ready")
        doc = s.get(KnowledgeDocument, uuid.UUID(added["id"]))
        assert (doc.filename, doc.title) == ("tabela de precos.txt", "tabela de precos")
