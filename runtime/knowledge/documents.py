"""Knowledge documents: add (deduplicated by content, replaced by name), list, delete, and the
ingestion job that extracts, chunks, embeds and stores them."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from db.models import DocumentStatus, KnowledgeBlob, KnowledgeDocument, utcnow
from db.tenancy import tenant_session
from runtime.config import get_settings
from runtime.jobs import get_queue, job
from runtime.jobs.names import INGEST_DOCUMENT as INGEST_JOB
from runtime.pgtext import has_refused, pg_text

from .types import ExtractionError

log = logging.getLogger(__name__)

SOURCE_TYPES = {"upload", "url", "drive", "learned"}


class DocumentError(ValueError):
    """Refused at once (before any job): the message is shown to the owner."""


@dataclass(frozen=True)
class Added:
    document: KnowledgeDocument
    created: bool  # False: identical content already stored (nothing queued)
    replaced: bool = False  # True: a changed version of a known file


def add_document(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    filename: str,
    data: bytes,
    mime_type: str | None = None,
    source_type: str = "upload",
    collection: str | None = None,
    source_url: str | None = None,
    external_id: str | None = None,
    external_modified_at: datetime | None = None,
    source_ref: str | None = None,
    title: str | None = None,
) -> Added:
    """Store the bytes and queue ingestion in the caller's transaction (the caller commits).

    Identical bytes already in the workspace: returns that document. A file with the same name
    (upload), URL or Drive id: replaced in place; its old chunks stay searchable until the new
    ones are ready, then are swapped atomically."""
    if source_type not in SOURCE_TYPES:
        raise DocumentError(f"unknown source type {source_type!r}")
    # Names and types come from browsers, Drive and providers: PostgreSQL refuses NUL in them.
    filename = pg_text(filename or "").strip().replace("\\", "/").rsplit("/", 1)[-1][:300]
    title = pg_text(title) if title else title
    mime_type = pg_text(mime_type) if mime_type else mime_type
    if not filename:
        raise DocumentError("Informe o nome do arquivo.")
    if not data:
        raise DocumentError("Arquivo vazio.")
    limit = get_settings().knowledge_max_bytes
    if len(data) > limit:
        raise DocumentError(f"Arquivo maior que o limite de {limit // 1_000_000} MB.")
    digest = hashlib.sha256(data).hexdigest()
    same = session.exec(select(KnowledgeDocument).where(KnowledgeDocument.content_hash == digest)).first()
    if same is not None:
        if same.status == DocumentStatus.failed:  # the same bytes again: try once more (e.g. after an outage)
            same.status, same.error, same.progress = DocumentStatus.queued, None, 0
            session.add(same)
            session.flush()
            get_queue().enqueue_in(session, INGEST_JOB, {"workspace_id": workspace_id, "document_id": same.id})
        return Added(same, created=False)

    doc = _previous_version(session, source_type, filename, collection, source_url, external_id)
    replaced = doc is not None
    if doc is None:
        doc = KnowledgeDocument(workspace_id=workspace_id, filename=filename, content_hash=digest)
    doc.filename = filename
    doc.content_hash = digest
    doc.mime_type = mime_type or mimetypes.guess_type(filename)[0]
    doc.size_bytes = len(data)
    doc.source_type = source_type
    doc.collection = collection
    doc.source_url = source_url
    doc.external_id = external_id
    doc.external_modified_at = external_modified_at
    doc.source_ref = source_ref
    doc.title = (title or doc.title or filename.rsplit(".", 1)[0])[:300]
    doc.status, doc.error, doc.progress = DocumentStatus.queued, None, 0
    doc.updated_at = utcnow()
    session.add(doc)
    session.flush()
    blob = session.get(KnowledgeBlob, doc.id)
    if blob is None:
        session.add(KnowledgeBlob(document_id=doc.id, workspace_id=workspace_id, data=data))
    else:
        blob.data = data
        session.add(blob)
    session.flush()
    get_queue().enqueue_in(session, INGEST_JOB, {"workspace_id": workspace_id, "document_id": doc.id})
    return Added(doc, created=True, replaced=replaced)


def add_url(session: Session, workspace_id: uuid.UUID, url: str, *, collection: str | None = None) -> Added:
    """A web page: stored now, fetched by the ingestion job (so a slow or dead page fails that
    document with a reason instead of the request). Adding the same URL again refreshes it."""
    from urllib.parse import urlsplit

    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or has_refused(url):
        raise DocumentError("Informe um endereço http(s) válido.")
    existing = session.exec(
        select(KnowledgeDocument).where(KnowledgeDocument.source_type == "url", KnowledgeDocument.source_url == url)
    ).first()
    doc = existing or KnowledgeDocument(
        workspace_id=workspace_id,
        source_type="url",
        source_url=url[:2000],
        filename=(parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc)[:300],
        title=parts.netloc[:300],
        content_hash=hashlib.sha256(f"url:{url}".encode()).hexdigest(),
        collection=collection,
    )
    doc.status, doc.error, doc.progress, doc.updated_at = DocumentStatus.queued, None, 0, utcnow()
    session.add(doc)
    session.flush()
    get_queue().enqueue_in(session, INGEST_JOB, {"workspace_id": workspace_id, "document_id": doc.id})
    return Added(doc, created=existing is None, replaced=existing is not None)


def _previous_version(
    session: Session,
    source_type: str,
    filename: str,
    collection: str | None,
    source_url: str | None,
    external_id: str | None,
) -> KnowledgeDocument | None:
    stmt = select(KnowledgeDocument).where(KnowledgeDocument.source_type == source_type)
    if external_id:
        stmt = stmt.where(KnowledgeDocument.external_id == external_id)
    elif source_url:
        stmt = stmt.where(KnowledgeDocument.source_url == source_url)
    else:
        stmt = stmt.where(KnowledgeDocument.filename == filename, KnowledgeDocument.source_url.is_(None))
        stmt = stmt.where(
            KnowledgeDocument.collection == collection if collection else KnowledgeDocument.collection.is_(None)
        )
    return session.exec(stmt.order_by(KnowledgeDocument.created_at)).first()


def list_documents(session: Session, collection: str | None = None) -> list[KnowledgeDocument]:
    stmt = select(KnowledgeDocument).order_by(KnowledgeDocument.created_at.desc())
    if collection:
        stmt = stmt.where(KnowledgeDocument.collection == collection)
    return list(session.exec(stmt).all())


def delete_document(session: Session, document_id: uuid.UUID) -> bool:
    """Deletes the document, its bytes and its chunks (cascade)."""
    doc = session.get(KnowledgeDocument, document_id)
    if doc is None:
        return False
    session.delete(doc)
    session.flush()
    return True


def chunk_preview(session: Session, document_id: uuid.UUID, limit: int = 20) -> list[dict]:
    rows = session.execute(
        text("SELECT ord, heading, page, content FROM knowledge_chunk WHERE document_id = :d ORDER BY ord LIMIT :n"),
        {"d": document_id, "n": limit},
    ).all()
    return [{"ord": r.ord, "heading": r.heading, "page": r.page, "content": r.content} for r in rows]


# --- ingestion ----------------------------------------------------------------------------


def _set(workspace_id: uuid.UUID, document_id: uuid.UUID, **fields: object) -> None:
    with tenant_session(workspace_id) as s:
        doc = s.get(KnowledgeDocument, document_id)
        if doc is None:
            return
        for key, value in fields.items():
            setattr(doc, key, value)
        doc.updated_at = utcnow()
        s.add(doc)
        s.commit()


_CONFIGURED = object()


def ingest_document(workspace_id: uuid.UUID, document_id: uuid.UUID, *, embedder: object = _CONFIGURED) -> str:
    """Extract -> clean -> chunk -> embed -> store. Returns the final status. A bad document ends
    'failed' with a clear reason; it never raises for bad input (the worker keeps going).
    `embedder` overrides the configured provider (benchmarks compare with and without)."""
    from .chunking import chunk_document
    from .embeddings import EmbeddingError, get_embedder
    from .isolated import extract_isolated
    from .store import replace_chunks

    with tenant_session(workspace_id) as s:
        doc = s.get(KnowledgeDocument, document_id)
        if doc is None:
            return "gone"  # deleted while queued
        blob = s.get(KnowledgeBlob, document_id)
        data = blob.data if blob is not None else None
        filename, mime, digest, url = doc.filename, doc.mime_type, doc.content_hash, doc.source_url
        is_page = doc.source_type == "url"
    if data is None and not is_page:
        return "gone"
    _set(workspace_id, document_id, status=DocumentStatus.processing, progress=5, error=None)
    settings = get_settings()
    try:
        if is_page:
            from .loaders import fetch_url

            data, filename, mime = fetch_url(
                url,
                timeout=settings.knowledge_url_timeout_seconds,
                max_bytes=settings.knowledge_max_bytes,
            )
            _set(workspace_id, document_id, mime_type=pg_text(mime), size_bytes=len(data))
        extracted = extract_isolated(data, filename, mime, max_bytes=settings.knowledge_max_bytes)
        drafts = chunk_document(extracted, settings.knowledge_chunk_size, settings.knowledge_chunk_overlap)
        if not drafts:
            raise ExtractionError("Nenhum texto encontrado no documento.")
        _set(workspace_id, document_id, progress=30, pages=extracted.pages)
        if embedder is _CONFIGURED:
            embedder = get_embedder(settings)
        vectors = None
        if embedder is not None:
            vectors = []
            batch = 64
            for i in range(0, len(drafts), batch):
                vectors += embedder.embed_documents([d.content for d in drafts[i : i + batch]])
                _set(workspace_id, document_id, progress=30 + int(60 * min(1.0, (i + batch) / len(drafts))))
        stored = replace_chunks(
            workspace_id,
            document_id,
            expected_hash=digest,
            title=extracted.title,
            drafts=drafts,
            vectors=vectors,
            embedder=embedder,
        )
        if not stored:
            return "superseded"  # a newer version arrived meanwhile; its own job stores it
        return DocumentStatus.ready
    except ExtractionError as exc:
        _set(workspace_id, document_id, status=DocumentStatus.failed, error=str(exc), progress=0)
        return DocumentStatus.failed
    except EmbeddingError as exc:
        _set(
            workspace_id,
            document_id,
            status=DocumentStatus.failed,
            error=f"Falha ao gerar embeddings: {exc}",
            progress=0,
        )
        return DocumentStatus.failed
    except Exception:
        log.exception("ingestion crashed document=%s", document_id)
        _set(
            workspace_id,
            document_id,
            status=DocumentStatus.failed,
            error="Erro interno ao processar o documento.",
            progress=0,
        )
        return DocumentStatus.failed


@job(INGEST_JOB)
async def ingest_document_job(payload: dict) -> None:
    import asyncio

    await asyncio.to_thread(ingest_document, uuid.UUID(payload["workspace_id"]), uuid.UUID(payload["document_id"]))
