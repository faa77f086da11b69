"""REST API v1, authenticated by a workspace API key; every query runs under RLS for that workspace."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from db.models import Workspace
from runtime import audit, contacts

from ..deps import ApiPrincipal, TenantDB, require_api_key
from ..inputs import Limit, Offset
from ..schemas import ContactCreate, ContactPublic, WorkspacePublic

router = APIRouter(prefix="/api/v1", tags=["v1"], dependencies=[Depends(require_api_key)])


@router.get("/workspace", response_model=WorkspacePublic)
def get_workspace(principal: ApiPrincipal, db: TenantDB) -> Workspace:
    ws = db.get(Workspace, principal.workspace_id)
    if ws is None:  # deleted while the key still existed
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Workspace not found")
    return ws


@router.get("/contacts", response_model=list[ContactPublic])
def list_contacts(db: TenantDB, limit: Limit = 50, offset: Offset = 0):
    return contacts.list_contacts(db, limit=limit, offset=offset)


@router.post("/contacts", response_model=ContactPublic, status_code=status.HTTP_201_CREATED)
def create_contact(body: ContactCreate, principal: ApiPrincipal, db: TenantDB):
    try:
        contact = contacts.create_contact(db, principal.workspace_id, body.phone, body.name, body.email)
    except contacts.ContactError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    db.commit()
    audit.record(
        principal.workspace_id,
        "contact.create",
        api_key_id=principal.api_key_id,
        target_type="contact",
        target_id=str(contact.id),
    )
    return contact
