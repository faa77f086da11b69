"""Conhecimento: the documents the agent answers from (uploads, web pages, Google Drive folders),
their chunks, a search tester that runs the agent's own retrieval, and the learned answers.

Every rule lives in the runtime: runtime.knowledge.documents (add, dedupe, replace, delete,
ingestion through the job queue), runtime.knowledge.drive (connections and their sync),
runtime.agent.graph (the retrieval step of a turn) and runtime.agent.learned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import select

from db.models import (
    Agent,
    DocumentStatus,
    DriveConnection,
    KnowledgeBlob,
    KnowledgeDocument,
    LearnedAnswer,
    LearnedStatus,
    Workspace,
)
from runtime import audit
from runtime.access import Principal, UserError, require_manager
from runtime.config import get_settings
from runtime.knowledge import documents, drive
from runtime.pgtext import pg_text

PENDING = ("queued", "processing")
PREVIEW_LIMIT = 20
SNIPPET_CHARS = 360
LEARNED_STATUSES = ("pending", "approved", "rejected")


# --- helpers -------------------------------------------------------------------------------


def _uuid(value: Any, what: str = "Documento") -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise UserError(f"{what} não encontrado.") from exc


def _zone(session) -> ZoneInfo:
    ws = session.get(Workspace, session.info.get("workspace_id"))
    try:
        return ZoneInfo(ws.timezone if ws else "America/Sao_Paulo")
    except (KeyError, ValueError):
        return ZoneInfo("America/Sao_Paulo")


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB".replace(".", ",")
    if n >= 1000:
        return f"{n / 1000:.0f} KB"
    return f"{n} B" if n else ""


def _document(doc: KnowledgeDocument, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": str(doc.id),
        "name": doc.title or doc.filename,
        "filename": doc.filename,
        "source": doc.source_type,
        "source_url": doc.source_url or "",
        "status": doc.status,
        "error": doc.error or "",
        "progress": int(doc.progress or 0),
        "chunks": int(doc.chunk_count or 0),
        "pages": int(doc.pages or 0),
        "size": _size(doc.size_bytes or 0),
        "updated": _when(doc.updated_at, tz),
        "can_reprocess": doc.status == DocumentStatus.failed or doc.source_type == "url",
    }


def _get_document(session, document_id: Any) -> KnowledgeDocument:
    doc = session.get(KnowledgeDocument, _uuid(document_id))
    if doc is None:
        raise UserError("Documento não encontrado.")
    return doc


# --- documents -----------------------------------------------------------------------------


def list_documents(principal: Principal) -> list[dict[str, Any]]:
    """Every document of the workspace, newest first (learned answers included: they are knowledge too)."""
    require_manager(principal)
    with principal.session() as s:
        tz = _zone(s)
        return [_document(d, tz) for d in documents.list_documents(s)]


def upload_documents(principal: Principal, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Each file is added on its own (its own transaction): one the runtime refuses at once (empty,
    too big) is reported with its reason and the others go on; a corrupt one fails later, in its
    ingestion job, with the reason on the document. Returns one result per file."""
    require_manager(principal)
    if not files:
        raise UserError("Escolha ao menos um arquivo.")
    results: list[dict[str, Any]] = []
    for filename, data in files:
        name = pg_text(filename or "").replace("\\", "/").rsplit("/", 1)[-1] or "arquivo"
        try:
            with principal.session() as s:
                added = documents.add_document(s, principal.workspace_id, filename=name, data=data or b"")
                s.commit()
                doc_id, created, replaced = added.document.id, added.created, added.replaced
        except documents.DocumentError as exc:
            results.append({"filename": name, "ok": False, "error": str(exc), "id": "", "created": False})
            continue
        if created:
            audit.record(
                principal.workspace_id,
                "knowledge.document.add",
                user_id=principal.user_id,
                target_type="knowledge_document",
                target_id=str(doc_id),
                data={"filename": name, "replaced": replaced},
            )
        results.append(
            {"filename": name, "ok": True, "error": "", "id": str(doc_id), "created": created, "replaced": replaced}
        )
    return results


def add_url(principal: Principal, url: str) -> dict[str, Any]:
    """A web page, fetched by the ingestion job (a dead page fails that document with a reason)."""
    require_manager(principal)
    try:
        with principal.session() as s:
            added = documents.add_url(s, principal.workspace_id, url or "")
            s.commit()
            tz = _zone(s)
            result = {**_document(added.document, tz), "created": added.created}
    except documents.DocumentError as exc:
        raise UserError(str(exc)) from exc
    audit.record(
        principal.workspace_id,
        "knowledge.document.add",
        user_id=principal.user_id,
        target_type="knowledge_document",
        target_id=result["id"],
        data={"url": result["source_url"], "replaced": not result["created"]},
    )
    return result


def delete_document(principal: Principal, document_id: str) -> None:
    require_manager(principal)
    with principal.session() as s:
        doc = _get_document(s, document_id)
        if doc.source_type == "learned":
            raise UserError("Este documento é uma resposta aprendida: apague-a na lista de respostas aprendidas.")
        if doc.source_type == "drive":
            raise UserError("Este arquivo vem do Google Drive: apague-o na pasta ou desconecte a pasta.")
        documents.delete_document(s, doc.id)
        s.commit()
    audit.record(
        principal.workspace_id,
        "knowledge.document.delete",
        user_id=principal.user_id,
        target_type="knowledge_document",
        target_id=str(document_id),
    )


def reprocess_document(principal: Principal, document_id: str) -> dict[str, Any]:
    """A failed document is tried once more (the runtime re-queues the same bytes added again);
    a web page is fetched again. A ready file has nothing new to read."""
    require_manager(principal)
    with principal.session() as s:
        doc = _get_document(s, document_id)
        try:
            if doc.source_type == "url" and doc.source_url:
                added = documents.add_url(s, principal.workspace_id, doc.source_url, collection=doc.collection)
            elif doc.status == DocumentStatus.failed:
                blob = s.get(KnowledgeBlob, doc.id)
                if blob is None:
                    raise UserError("O arquivo original não está mais guardado: envie-o de novo.")
                added = documents.add_document(
                    s,
                    principal.workspace_id,
                    filename=doc.filename,
                    data=blob.data,
                    mime_type=doc.mime_type,
                    source_type=doc.source_type,
                    collection=doc.collection,
                    external_id=doc.external_id,
                    source_ref=doc.source_ref,
                )
            else:
                raise UserError("Este documento já foi processado; envie uma nova versão para atualizá-lo.")
        except documents.DocumentError as exc:
            raise UserError(str(exc)) from exc
        s.commit()
        return _document(added.document, _zone(s))


def chunk_preview(principal: Principal, document_id: str, limit: int = PREVIEW_LIMIT) -> dict[str, Any]:
    """The document and its first chunks, as the search stores them."""
    require_manager(principal)
    limit = max(1, min(int(limit or PREVIEW_LIMIT), 100))
    with principal.session() as s:
        doc = _get_document(s, document_id)
        chunks = documents.chunk_preview(s, doc.id, limit)
        return {
            "document": _document(doc, _zone(s)),
            "chunks": [
                {
                    "ord": c["ord"],
                    "heading": c["heading"] or "",
                    "page": c["page"] or 0,
                    "content": c["content"],
                    "chars": len(c["content"]),
                }
                for c in chunks
            ],
            "shown": len(chunks),
            "total": int(doc.chunk_count or 0),
        }


# --- search tester -------------------------------------------------------------------------


def list_agents(principal: Principal) -> list[dict[str, str]]:
    """The agents the search tester can act as (their own knowledge collection and learned answers)."""
    require_manager(principal)
    with principal.session() as s:
        return [{"id": str(a.id), "name": a.name} for a in s.exec(select(Agent).order_by(Agent.created_at)).all()]


def search_test(principal: Principal, query: str, agent_id: str | None = None) -> dict[str, Any]:
    """What the agent would retrieve for this question: its learned answer, when one matches (it
    answers before any search), then the chunks of the agent's retrieval step (the same function a
    turn runs: same collection, same embedder, same fallback to full text)."""
    require_manager(principal)
    from runtime.agent import learned
    from runtime.agent.graph import TurnDeps, retrieve_node
    from runtime.agent.settings import AgentSettings

    query = (query or "").strip()
    if not query:
        raise UserError("Digite uma pergunta para testar a busca.")
    if len(query) > 1000:
        raise UserError("Pergunta longa demais (máximo de 1000 caracteres).")
    with principal.session() as s:
        if agent_id:
            agent = s.get(Agent, _uuid(agent_id, "Agente"))
            if agent is None:
                raise UserError("Agente não encontrado.")
        else:
            agent = s.exec(select(Agent).order_by(Agent.created_at)).first()
        settings = AgentSettings.model_validate(agent.config or {}) if agent else AgentSettings()
        agent_uuid, agent_name = (agent.id, agent.name) if agent else (None, "")
        learned_hit = None
        if settings.learned_answers.enabled:
            found = learned.find_answer(s, query, agent_id=agent_uuid, threshold=settings.learned_answers.threshold)
            if found is not None:
                row, similarity = found
                learned_hit = {
                    "id": str(row.id),
                    "question": row.question,
                    "answer": row.answer,
                    "similarity": round(similarity, 2),
                }
            s.rollback()  # a test is not a use: find_answer counts uses
    deps = TurnDeps(
        workspace_id=principal.workspace_id,
        agent_id=agent_uuid,
        agent_name=agent_name,
        settings=settings,
        contact_name="",
        lead_fields={},
        now=datetime.now(UTC),
        model=None,
    )
    retrieve_node({"question": query}, {"configurable": {"deps": deps}})
    top = deps.hits[0].score if deps.hits else 0.0
    hits = [
        {
            "rank": i + 1,
            "document_id": str(h.document_id),
            "document": h.title or h.filename,
            "filename": h.filename,
            "source": h.source_type,
            "heading": h.heading or "",
            "page": h.page or 0,
            "snippet": h.content if len(h.content) <= SNIPPET_CHARS else h.content[:SNIPPET_CHARS].rstrip() + "…",
            "score": round(h.score, 4),
            "relative": round(100 * h.score / top) if top else 0,
            "matched_by": " + ".join({"text": "texto", "vector": "semântica"}.get(m, m) for m in h.matched_by),
        }
        for i, h in enumerate(deps.hits)
    ]
    return {
        "query": query,
        "agent": agent_name,
        "collection": settings.knowledge_collection or "",
        "learned": learned_hit,
        "hits": hits,
    }


# --- Google Drive ----------------------------------------------------------------------------


def connect_drive_folder(principal: Principal, folder: str) -> str:
    """Where to send the browser to grant read access to the folder (the OAuth flow of
    runtime.api.routes.drive, which comes back to /conhecimento)."""
    require_manager(principal)
    if not get_settings().google_enabled:
        raise UserError(
            drive.CONNECT_ERRORS["drive_desativado"] + " Configure GOOGLE_CLIENT_ID e GOOGLE_CLIENT_SECRET."
        )
    folder_id = drive.parse_folder_ref(folder)
    if folder_id is None:
        raise UserError(drive.CONNECT_ERRORS["drive_pasta_invalida"])
    return "/integrations/google-drive/connect?" + urlencode({"folder": folder_id})


def drive_status(principal: Principal) -> dict[str, Any]:
    """Whether Drive can be connected here, and the connected folders."""
    require_manager(principal)
    with principal.session() as s:
        tz = _zone(s)
        connections = [_connection(c, tz) for c in drive.list_connections(s)]
    return {"enabled": get_settings().google_enabled, "connections": connections}


def _connection(conn: DriveConnection, tz: ZoneInfo) -> dict[str, Any]:
    report = drive.last_report(conn) or {}
    problems = [f"{name}: {reason}" for name, reason in (report.get("failed") or []) + (report.get("skipped") or [])]
    return {
        "id": str(conn.id),
        "folder_name": conn.folder_name or conn.folder_id,
        "folder_url": drive.folder_url(conn.folder_id),
        "account_email": conn.account_email or "",
        "status": conn.status,
        "syncing": drive.is_syncing(conn),
        "last_sync": _when(conn.last_sync_at, tz),
        "last_error": conn.last_error or "",
        "files": int(conn.files_synced or 0),
        "problems": problems[:20],
    }


def connect_error_message(principal: Principal, code: str) -> str:
    """The message for the ?erro= code the Drive connect flow came back with ("" if unknown)."""
    require_manager(principal)
    return drive.CONNECT_ERRORS.get(code or "", "")


def sync_drive(principal: Principal, connection_id: str) -> None:
    require_manager(principal)
    if not drive.queue_sync(principal.workspace_id, _uuid(connection_id, "Pasta")):
        raise UserError("Pasta não encontrada.")


def disconnect_drive(principal: Principal, connection_id: str) -> int:
    """Removes the connection and the documents it brought. Returns how many documents."""
    require_manager(principal)
    conn_id = _uuid(connection_id, "Pasta")
    removed = drive.remove_connection(principal.workspace_id, conn_id)
    if removed is None:
        raise UserError("Pasta não encontrada.")
    audit.record(
        principal.workspace_id,
        "knowledge.drive.disconnect",
        user_id=principal.user_id,
        target_type="drive_connection",
        target_id=str(conn_id),
        data={"documents_removed": removed},
    )
    return removed


# --- learned answers -----------------------------------------------------------------------


def _learned_dict(row: LearnedAnswer, agents: dict[uuid.UUID, str], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "question": row.question,
        "original_question": row.original_question if row.original_question != row.question else "",
        "answer": row.answer,
        "status": row.status,
        "agent": agents.get(row.agent_id, "") if row.agent_id else "",
        "uses": int(row.uses or 0),
        "created": _when(row.created_at, tz),
    }


def _get_learned(session, learned_id: Any) -> LearnedAnswer:
    row = session.get(LearnedAnswer, _uuid(learned_id, "Resposta"))
    if row is None:
        raise UserError("Resposta aprendida não encontrada.")
    return row


def list_learned(principal: Principal, status: str | None = None) -> list[dict[str, Any]]:
    """Pending first (they wait for the owner), then the newest."""
    require_manager(principal)
    from runtime.agent import learned

    if status and status not in LEARNED_STATUSES:
        raise UserError("Filtro inválido.")
    with principal.session() as s:
        tz = _zone(s)
        agents = {a.id: a.name for a in s.exec(select(Agent)).all()}
        rows = learned.list_learned(s, status or None)
        rows.sort(key=lambda r: r.status != LearnedStatus.pending)  # stable: newest first within each group
        return [_learned_dict(r, agents, tz) for r in rows]


def approve_learned(principal: Principal, learned_id: str) -> None:
    require_manager(principal)
    from runtime.agent import learned

    with principal.session() as s:
        learned.approve(s, _get_learned(s, learned_id))
        s.commit()


def reject_learned(principal: Principal, learned_id: str) -> None:
    require_manager(principal)
    from runtime.agent import learned

    with principal.session() as s:
        learned.reject(s, _get_learned(s, learned_id))
        s.commit()


def edit_learned(principal: Principal, learned_id: str, question: str, answer: str) -> None:
    """Save the owner's wording; an edited answer is approved (the owner wrote it)."""
    require_manager(principal)
    from runtime.agent import learned

    question, answer = (question or "").strip(), (answer or "").strip()
    if len(question) < 3:
        raise UserError("Escreva a pergunta (ao menos 3 caracteres).")
    if not answer:
        raise UserError("Escreva a resposta.")
    if len(question) > 2000 or len(answer) > 4000:
        raise UserError("Texto longo demais (pergunta até 2000 e resposta até 4000 caracteres).")
    with principal.session() as s:
        learned.approve(s, _get_learned(s, learned_id), question=question, answer=answer)
        s.commit()


def delete_learned(principal: Principal, learned_id: str) -> None:
    require_manager(principal)
    from runtime.agent import learned

    with principal.session() as s:
        learned.remove(s, _get_learned(s, learned_id))
        s.commit()
