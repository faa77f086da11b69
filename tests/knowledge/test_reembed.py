"""Hybrid search with a real OpenAI-compatible client against a local fake, and re-embedding in the
background when the provider or model changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.config import get_settings
from runtime.jobs import dispatch
from runtime.knowledge import embeddings
from runtime.knowledge.documents import add_document, ingest_document
from runtime.knowledge.reembed import enqueue_reembeds
from runtime.knowledge.search import search
from tests.fakes.embeddings import FakeOpenAIEmbeddings
from tests.fakes.servers import serve_in_thread

COMPANY = Path(__file__).resolve().parent.parent / "data" / "company"


@pytest.fixture
def fake_openai(monkeypatch):
    fake = FakeOpenAIEmbeddings()
    with serve_in_thread(fake.app()) as url:
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
        monkeypatch.setenv("EMBEDDING_MODEL", "modelo-a")

        def use(**env: str) -> None:
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            get_settings.cache_clear()
            embeddings.clear_cache()

        use()
        yield fake, use
    get_settings.cache_clear()
    embeddings.clear_cache()


def _models(ws) -> set:
    with tenant_session(ws) as s:
        return {r[0] for r in s.execute(text("SELECT DISTINCT embedding_model FROM knowledge_chunk"))}


def test_hybrid_search_and_reembedding_after_a_model_change(make_workspace, fake_openai):
    fake, use = fake_openai
    ws = make_workspace("Híbrida").workspace_id
    with tenant_session(ws) as s:
        doc_id = add_document(s, ws, filename="sobre-nos.md", data=(COMPANY / "sobre-nos.md").read_bytes()).document.id
        s.commit()
    assert ingest_document(ws, doc_id) == "ready"
    assert _models(ws) == {"openai:modelo-a:768"}
    with tenant_session(ws) as s:
        hits = search(s, "tem estacionamento?", embedder=embeddings.get_embedder())
    assert hits and "vector" in hits[0].matched_by and hits[0].filename == "sobre-nos.md"

    use(EMBEDDING_MODEL="modelo-b")
    assert enqueue_reembeds() >= 1  # the worker does this when it starts
    import asyncio

    asyncio.run(dispatch("knowledge.reembed", {"workspace_id": str(ws)}))
    assert _models(ws) == {"openai:modelo-b:768"}
    with tenant_session(ws) as s:
        assert s.execute(text("SELECT embedding_model FROM knowledge_document")).scalar() == "openai:modelo-b:768"
        hits = search(s, "tem estacionamento?", embedder=embeddings.get_embedder())
    assert "vector" in hits[0].matched_by
    requests_before = len(fake.requests)
    asyncio.run(dispatch("knowledge.reembed", {"workspace_id": str(ws)}))
    assert len(fake.requests) == requests_before  # nothing left to do: no provider call

    use(EMBEDDING_PROVIDER="none")
    asyncio.run(dispatch("knowledge.reembed", {"workspace_id": str(ws)}))
    assert _models(ws) == {None}
    with tenant_session(ws) as s:
        hits = search(s, "tem estacionamento?", embedder=None)
    assert hits and hits[0].matched_by == ("text",)


def test_provider_outage_fails_the_document_with_a_reason(make_workspace, fake_openai):
    fake, use = fake_openai
    use(EMBEDDING_MAX_ATTEMPTS="2", EMBEDDING_RETRY_BASE_SECONDS="0")
    ws = make_workspace("Fora do ar").workspace_id
    fake.fail_next(10, status=503)
    with tenant_session(ws) as s:
        doc_id = add_document(
            s, ws, filename="convenios.csv", data=(COMPANY / "convenios.csv").read_bytes()
        ).document.id
        s.commit()
    assert ingest_document(ws, doc_id) == "failed"
    with tenant_session(ws) as s:
        status, error = s.execute(text("SELECT status, error FROM knowledge_document")).one()
    assert status == "failed" and "embeddings" in error.lower() and fake.api_key not in error
