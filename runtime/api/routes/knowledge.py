"""/api/v1/knowledge: upload documents (or a URL), follow their processing, search them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from pydantic import BaseModel, Field

from db.models import KnowledgeDocument
from runtime import audit
from runtime.config import get_settings
from runtime.knowledge import documents
from runtime.knowledge.embeddings import get_embedder
from runtime.knowledge.search import search

from ..deps import ApiPrincipal, TenantDB, require_api_key

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=[Depends(require_api_key)])


class DocumentPublic(BaseModel):
    id: uuid.UUID
    filename: str
    title: str
    collection: str | None
    source_type: str
    source_url: str | None
    mime_type: str | None
    size_bytes: int
    status: str
    error: str | None
    progress: int
    pages: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class DocumentAdded(DocumentPublic):
    created: bool = Field(description="False when identical content was already stored")


class DocumentDetail(DocumentPublic):
    chunks: list[dict]


class UrlIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000)
    collection: str | None = Field(default=None, max_length=80)


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=1000)
    k: int = Field(default=5, ge=1, le=50)
    collection: str | None = Field(default=None, max_length=80)


class SearchHitPublic(BaseModel):
    document_id: uuid.UUID
    filename: str
    title: str
    heading: str | None
    page: int | None
    content: str
    score: float
    matched_by: list[str]


def _added(result: documents.Added) -> dict:
    return {**result.document.model_dump(), "created": result.created}


@router.post("/documents", response_model=DocumentAdded, status_code=status.HTTP_202_ACCEPTED)
async def add_document(
    request: Request,
    principal: ApiPrincipal,
    db: TenantDB,
    file: Annotated[UploadFile | None, File()] = None,
    collection: Annotated[str | None, Form(max_length=80)] = None,
) -> dict:
    """Multipart `file` (and optional `collection`), or JSON `{"url": ..., "collection": ...}`.
    Processing happens in the background: follow `status` and `progress` on the document."""
    limit = get_settings().knowledge_max_bytes
    try:
        if file is not None:
            data = await file.read(limit + 1)
            result = documents.add_document(
                db,
                principal.workspace_id,
                filename=file.filename or "arquivo",
                data=data,
                mime_type=file.content_type,
                collection=collection,
            )
        elif request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = UrlIn.model_validate_json(await request.body())
            except ValueError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, 'send a file, or JSON {"url": ...}') from exc
            result = documents.add_url(db, principal.workspace_id, body.url, collection=body.collection)
        else:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, 'send a multipart `file`, or JSON {"url": ...}')
    except documents.DocumentError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    db.commit()
    if result.created:
        audit.record(
            principal.workspace_id,
            "knowledge.document.add",
            api_key_id=principal.api_key_id,
            target_type="knowledge_document",
            target_id=str(result.document.id),
            data={"filename": result.document.filename, "replaced": result.replaced},
        )
    return _added(result)


@router.get("/documents", response_model=list[DocumentPublic])
def list_documents(db: TenantDB, collection: str | None = None) -> list[KnowledgeDocument]:
    return documents.list_documents(db, collection)


@router.get("/documents/{document_id}", response_model=DocumentDetail)
def get_document(document_id: uuid.UUID, db: TenantDB) -> dict:
    doc = db.get(KnowledgeDocument, document_id)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    return {**doc.model_dump(), "chunks": documents.chunk_preview(db, document_id)}


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(document_id: uuid.UUID, principal: ApiPrincipal, db: TenantDB) -> None:
    if not documents.delete_document(db, document_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    db.commit()
    audit.record(
        principal.workspace_id,
        "knowledge.document.delete",
        api_key_id=principal.api_key_id,
        target_type="knowledge_document",
        target_id=str(document_id),
    )


@router.post("/search", response_model=list[SearchHitPublic])
def search_knowledge(body: SearchIn, db: TenantDB) -> list[dict]:
    hits = search(db, body.query, k=body.k, collection=body.collection, embedder=get_embedder())
    return [{**h.__dict__, "matched_by": list(h.matched_by)} for h in hits]
