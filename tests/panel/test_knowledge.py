"""Conhecimento services (runtime.panel.knowledge) against the real database and the job worker:
uploads ingested one by one, chunk preview, the agent's retrieval in the search tester, learned
answers, Drive connect checks, roles and tenant isolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.models import LearnedAnswer, Role
from runtime.access import Forbidden, Principal, UserError
from runtime.panel import knowledge as kb
from tests.conftest import wait_until

COMPANY = Path(__file__).resolve().parent.parent / "data" / "company"


def owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def settled(p: Principal, doc_id: str, timeout: float = 30) -> dict:
    def done():
        doc = next((d for d in kb.list_documents(p) if d["id"] == doc_id), None)
        return doc if doc and doc["status"] in ("ready", "failed") else None

    return wait_until(done, timeout=timeout)


def add_learned(p: Principal, question: str, answer: str, status: str = "pending") -> str:
    with p.session() as s:
        row = LearnedAnswer(
            workspace_id=p.workspace_id, question=question, original_question=question, answer=answer, status=status
        )
        s.add(row)
        s.commit()
        return str(row.id)


def test_upload_good_and_corrupt_files_fail_alone_with_a_reason(workspace, worker):
    ws, _, _ = workspace
    p = owner(ws)
    good = (COMPANY / "sobre-nos.md").read_bytes()
    results = kb.upload_documents(
        p, [("sobre-nos.md", good), ("quebrado.pdf", b"%PDF-1.7\n1 0 obj <<"), ("vazio.txt", b"")]
    )
    by_name = {r["filename"]: r for r in results}
    assert by_name["sobre-nos.md"]["ok"] and by_name["quebrado.pdf"]["ok"]
    assert not by_name["vazio.txt"]["ok"] and "vazio" in by_name["vazio.txt"]["error"].lower()

    ready = settled(p, by_name["sobre-nos.md"]["id"])
    failed = settled(p, by_name["quebrado.pdf"]["id"])
    assert ready["status"] == "ready" and ready["chunks"] > 0 and ready["error"] == ""
    assert ready["source"] == "upload" and ready["updated"]
    assert failed["status"] == "failed" and failed["error"] and failed["chunks"] == 0
    assert failed["can_reprocess"] and not ready["can_reprocess"]
    assert [d["filename"] for d in kb.list_documents(p)].count("vazio.txt") == 0

    # The same bytes again: nothing new, the existing document is returned.
    again = kb.upload_documents(p, [("copia.md", good)])
    assert again[0]["ok"] and again[0]["id"] == ready["id"] and again[0]["created"] is False

    # Trying the broken file once more fails the same way, with its reason.
    assert kb.reprocess_document(p, failed["id"])["status"] == "queued"
    assert settled(p, failed["id"])["status"] == "failed"
    with pytest.raises(UserError):
        kb.reprocess_document(p, ready["id"])

    with pytest.raises(UserError):
        kb.upload_documents(p, [])


def test_chunk_preview_and_search_tester_find_the_uploaded_document(workspace, worker):
    ws, _, _ = workspace
    p = owner(ws)
    [r] = kb.upload_documents(p, [("tabela-de-precos.xlsx", (COMPANY / "tabela-de-precos.xlsx").read_bytes())])
    doc = settled(p, r["id"])
    assert doc["status"] == "ready"

    preview = kb.chunk_preview(p, doc["id"], 3)
    assert preview["document"]["id"] == doc["id"] and preview["total"] == doc["chunks"]
    assert 1 <= preview["shown"] <= 3 and [c["ord"] for c in preview["chunks"]] == sorted(
        c["ord"] for c in preview["chunks"]
    )
    assert "R$" in " ".join(c["content"] for c in kb.chunk_preview(p, doc["id"])["chunks"])

    result = kb.search_test(p, "qnto custa clareamento")
    assert result["hits"], result
    top = result["hits"][0]
    assert top["filename"] == "tabela-de-precos.xlsx" and top["document_id"] == doc["id"]
    assert top["score"] > 0 and top["relative"] == 100 and "texto" in top["matched_by"]
    assert "clareamento" in top["snippet"].lower()
    assert result["learned"] is None

    assert kb.search_test(p, "xyzzy plugh")["hits"] == []
    with pytest.raises(UserError):
        kb.search_test(p, "   ")
    with pytest.raises(UserError):
        kb.chunk_preview(p, "não-é-um-id")


def test_search_tester_uses_the_agents_collection_and_learned_answers(workspace, worker):
    from runtime.agent.service import create_agent

    ws, _, _ = workspace
    p = owner(ws)
    with p.session() as s:
        agent = create_agent(s, ws.workspace_id, name="Só convênios", settings={"knowledge_collection": "outra"})
        s.commit()
        agent_id = str(agent.id)
    [r] = kb.upload_documents(p, [("convenios.csv", (COMPANY / "convenios.csv").read_bytes())])
    assert settled(p, r["id"])["status"] == "ready"
    assert kb.list_agents(p) == [{"id": agent_id, "name": "Só convênios"}]

    # The agent searches its own collection only: the upload (no collection) is not in it.
    as_agent = kb.search_test(p, "aceita unimed?", agent_id)
    assert as_agent["agent"] == "Só convênios" and as_agent["collection"] == "outra" and as_agent["hits"] == []

    learned_id = add_learned(p, "Vocês aceitam Unimed?", "Sim, aceitamos Unimed em todos os planos.", "approved")
    hit = kb.search_test(p, "voces aceitam unimed", agent_id)["learned"]
    assert hit and hit["id"] == learned_id and hit["similarity"] >= 0.6
    assert kb.list_learned(p)[0]["uses"] == 0  # a test is not a use


def test_learned_answers_approve_edit_reject_delete(workspace, worker):
    ws, _, _ = workspace
    p = owner(ws)
    old = add_learned(p, "Tem estacionamento?", "Sim, gratuito.", "approved")
    pending = add_learned(p, "Vocês atendem aos domingos?", "Não, só de segunda a sábado.")
    rows = kb.list_learned(p)
    assert [r["id"] for r in rows] == [pending, old]  # pending first
    assert rows[0]["status"] == "pending" and rows[1]["status"] == "approved"
    assert [r["id"] for r in kb.list_learned(p, "pending")] == [pending]

    # Approving mirrors the answer into the knowledge base: the search finds it.
    kb.approve_learned(p, pending)
    assert kb.list_learned(p, "pending") == []
    mirrored = wait_until(lambda: [d for d in kb.list_documents(p) if d["source"] == "learned"])
    doc = settled(p, mirrored[0]["id"])
    assert doc["status"] == "ready"
    hits = kb.search_test(p, "atendem domingo")["hits"]
    assert hits and hits[0]["source"] == "learned" and "segunda a sábado" in hits[0]["snippet"]
    with pytest.raises(UserError):
        kb.delete_document(p, doc["id"])  # deleted with its learned answer, not alone

    kb.edit_learned(p, pending, "Atendem aos domingos?", "Sim, aos domingos das 9h às 13h.")
    edited = next(r for r in kb.list_learned(p) if r["id"] == pending)
    assert edited["question"] == "Atendem aos domingos?" and edited["answer"].startswith("Sim, aos domingos")
    assert edited["status"] == "approved"

    def reindexed():
        docs = [d for d in kb.list_documents(p) if d["source"] == "learned" and d["status"] == "ready"]
        hits = kb.search_test(p, "atendem domingo")["hits"]
        return docs and hits and "9h" in hits[0]["snippet"]

    wait_until(reindexed, timeout=30)
    with pytest.raises(UserError):
        kb.edit_learned(p, pending, "", "x")

    kb.reject_learned(p, pending)
    assert next(r for r in kb.list_learned(p) if r["id"] == pending)["status"] == "rejected"
    assert not [d for d in kb.list_documents(p) if d["source"] == "learned"]

    kb.delete_learned(p, pending)
    kb.delete_learned(p, old)
    assert kb.list_learned(p) == []
    with pytest.raises(UserError):
        kb.delete_learned(p, pending)


def test_add_url_delete_and_drive_checks(workspace, worker, monkeypatch):
    ws, _, _ = workspace
    p = owner(ws)
    with pytest.raises(UserError, match="http"):
        kb.add_url(p, "ftp://exemplo.com/x")
    # A page nobody serves: the document fails with a reason instead of the request.
    doc = kb.add_url(p, "http://127.0.0.1:9/precos")
    assert doc["status"] == "queued" and doc["source"] == "url" and doc["can_reprocess"]
    failed = settled(p, doc["id"])
    assert failed["status"] == "failed" and failed["error"]
    kb.delete_document(p, doc["id"])
    assert kb.list_documents(p) == []
    with pytest.raises(UserError):
        kb.delete_document(p, doc["id"])

    # Drive: without Google credentials the owner is told so; with them, the OAuth flow URL.
    from runtime.config import get_settings

    status = kb.drive_status(p)
    assert status["connections"] == []
    if not get_settings().google_enabled:
        assert status["enabled"] is False
        with pytest.raises(UserError, match="Google"):
            kb.connect_drive_folder(p, "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOp")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "id.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "segredo")
    get_settings.cache_clear()
    try:
        assert kb.drive_status(p)["enabled"] is True
        url = kb.connect_drive_folder(p, "https://drive.google.com/drive/u/0/folders/1AbCdEfGhIjKlMnOp")
        assert url == "/integrations/google-drive/connect?folder=1AbCdEfGhIjKlMnOp"
        with pytest.raises(UserError, match="inválido"):
            kb.connect_drive_folder(p, "https://example.com/pasta")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert kb.connect_error_message(p, "drive_negado").startswith("Você não autorizou")
    assert kb.connect_error_message(p, "qualquer") == ""


def test_sellers_are_refused_and_workspaces_are_isolated(make_workspace, worker):
    a, b = make_workspace("Loja A"), make_workspace("Loja B")
    pa, pb = owner(a), owner(b)
    seller = Principal(a.user_id, a.workspace_id, Role.seller)
    with pytest.raises(Forbidden):
        kb.list_documents(seller)
    with pytest.raises(Forbidden):
        kb.upload_documents(seller, [("x.md", b"# x")])
    with pytest.raises(Forbidden):
        kb.search_test(seller, "preço")

    [r] = kb.upload_documents(pa, [("sobre-nos.md", (COMPANY / "sobre-nos.md").read_bytes())])
    assert settled(pa, r["id"])["status"] == "ready"
    learned_id = add_learned(pa, "Tem estacionamento?", "Sim.", "pending")

    assert kb.list_documents(pb) == [] and kb.list_learned(pb) == []
    assert kb.search_test(pb, "tem estacionamento?")["hits"] == []
    assert kb.search_test(pa, "tem estacionamento?")["hits"]
    for call in (
        lambda: kb.chunk_preview(pb, r["id"]),
        lambda: kb.delete_document(pb, r["id"]),
        lambda: kb.reprocess_document(pb, r["id"]),
        lambda: kb.approve_learned(pb, learned_id),
        lambda: kb.delete_learned(pb, learned_id),
    ):
        with pytest.raises(UserError):
            call()
    assert [d["id"] for d in kb.list_documents(pa)] == [r["id"]]
    assert kb.list_learned(pa)[0]["status"] == "pending"
