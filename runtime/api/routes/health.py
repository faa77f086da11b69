"""Liveness + readiness in one: the service is healthy when the database answers as the app role."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from db.tenancy import global_session

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> JSONResponse:
    try:
        with global_session() as s:
            row = s.execute(
                text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
    except Exception as exc:
        return JSONResponse({"status": "error", "database": f"unavailable: {type(exc).__name__}"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "rls_enforced": not row})
