"""POST /tasks/{name}: where push queues (Cloud Tasks) deliver jobs. The caller proves itself with
the shared secret (X-Tasks-Secret, local and emulator use) or a Google-signed OIDC token of the
configured service account; then the job runs through the same dispatch as the Postgres worker.
2xx tells Cloud Tasks the job is done; any other status makes it retry (handlers are idempotent)."""

from __future__ import annotations

import hmac
import json
import logging
from math import ceil

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from runtime.config import get_settings
from runtime.jobs.base import UnknownJob, decode_payload, dispatch
from runtime.jobs.lease import LeaseHeld

log = logging.getLogger(__name__)
router = APIRouter(tags=["tasks"], include_in_schema=False)


def _verify_oidc(token: str) -> bool:
    s = get_settings()
    from google.auth.transport import requests as google_requests
    from google.oauth2 import id_token

    audience = s.tasks_oidc_audience or (s.tasks_target_url or s.public_url).rstrip("/")
    try:
        claims = id_token.verify_token(
            token, google_requests.Request(), audience=audience, certs_url=s.tasks_oidc_certs_url
        )
    except Exception as exc:  # expired, wrong audience, bad signature, certs unreachable
        log.warning("tasks: OIDC token refused: %s", type(exc).__name__)
        return False
    return claims.get("email") == s.tasks_oidc_service_account and claims.get("email_verified", True) is not False


async def _authenticated(request: Request) -> bool:
    s = get_settings()
    secret = request.headers.get("x-tasks-secret")
    if s.tasks_secret is not None and secret is not None:
        return hmac.compare_digest(secret.encode(), s.tasks_secret.get_secret_value().encode())
    auth = request.headers.get("authorization", "")
    if s.tasks_oidc_service_account and auth.lower().startswith("bearer "):
        return await run_in_threadpool(_verify_oidc, auth[7:].strip())
    return False


@router.post("/tasks/{name}")
async def run_task(name: str, request: Request) -> dict:
    s = get_settings()
    if s.tasks_secret is None and not s.tasks_oidc_service_account:
        raise HTTPException(404, "tasks endpoint disabled")
    if not await _authenticated(request):
        raise HTTPException(401, "not authorized")
    try:
        payload = decode_payload(await request.body())
    except (ValueError, json.JSONDecodeError) as exc:
        raise HTTPException(400, "payload must be a JSON object") from exc
    try:
        await dispatch(name, payload)
    except UnknownJob as exc:
        raise HTTPException(404, f"unknown job {name!r}") from exc
    except LeaseHeld as exc:  # another live instance has this work: Cloud Tasks delivers it again
        raise HTTPException(
            503, "work in progress elsewhere; retry", headers={"Retry-After": str(ceil(exc.retry_after))}
        ) from exc
    except Exception as exc:
        log.error("task %s failed: %s", name, type(exc).__name__, exc_info=exc)
        raise HTTPException(500, "job failed; retry") from exc
    return {"ok": True}
