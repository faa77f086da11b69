"""/webhooks/{provider}/{channel_id}: verify on the raw bytes, store in one transaction, answer at once.

Input errors are the sender's: 4xx with a clear body, nothing stored. Never a 500 for input."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db.tenancy import global_session
from runtime.channels.base import WebhookRejected, WebhookRequest
from runtime.channels.registry import SLUG_TO_PROVIDER, adapter_class, build_adapter, channel_config
from runtime.channels.service import ChannelSettings
from runtime.config import get_settings
from runtime.pipeline.inbound import ChannelRef, Delivery, IngestFailed, batcher

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"], include_in_schema=False)

# Verification, parsing and handshakes make no HTTP calls; adapters still get a client.
_NO_CALLS = httpx.AsyncClient()

_LOOKUP = text(
    "SELECT workspace_id, provider, credentials_encrypted, api_base_url, config, is_active, agent_id "
    "FROM app_channel_lookup(:id)"
)


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=status)


# Channel rows by id, kept briefly so a busy channel costs no query per webhook. A changed
# credential or setting takes effect within CHANNEL_CACHE_SECONDS in every process.
CHANNEL_CACHE_SECONDS = 10.0
_cache: dict[uuid.UUID, tuple[float, Any]] = {}


def _lookup(channel_id: uuid.UUID) -> Any:
    with global_session() as s:
        row = s.execute(_LOOKUP, {"id": channel_id}).first()
    if row is not None:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[channel_id] = (time.monotonic(), row)
    return row


def forget_channel(channel_id: uuid.UUID) -> None:
    _cache.pop(channel_id, None)


@router.api_route("/webhooks/{slug}/{channel_id}", methods=["GET", "POST"])
async def webhook(slug: str, channel_id: str, request: Request) -> Response:
    provider = SLUG_TO_PROVIDER.get(slug)
    if provider is None:
        return _error(404, f"unknown provider {slug!r}")
    try:
        cid = uuid.UUID(channel_id)
    except ValueError:
        return _error(404, "unknown channel")
    hit = _cache.get(cid)
    if hit is not None and time.monotonic() - hit[0] < CHANNEL_CACHE_SECONDS:
        row = hit[1]
    else:
        row = await run_in_threadpool(_lookup, cid)
    if row is None or row.provider != provider.value:
        return _error(404, "unknown channel")
    if not row.is_active:
        return _error(410, "channel is disabled")

    settings = get_settings()
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.webhook_max_bytes:
        return _error(413, "body too large")
    body = await request.body()
    if len(body) > settings.webhook_max_bytes:
        return _error(413, "body too large")

    public = settings.absolute_url(request.url.path)
    if request.url.query:
        public += "?" + request.url.query
    hook = WebhookRequest(
        method=request.method,
        url=public,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        body=body,
    )
    config = channel_config(cid, provider, row.credentials_encrypted, row.api_base_url)
    adapter = build_adapter(config, _NO_CALLS)
    try:
        if request.method == "GET":
            return PlainTextResponse(adapter.handshake(hook))
        adapter.verify(hook)
        event = adapter.parse(hook)
    except WebhookRejected as exc:
        log.info("webhook refused channel=%s status=%s: %s", cid, exc.status_code, exc.detail)
        return _error(exc.status_code, exc.detail)

    if event.misaddressed and not event.messages and not event.statuses:
        # Another number's events (e.g. two numbers on one Meta app): nothing of this channel's to store.
        log.info("webhook ignored channel=%s: %d event(s) for another number", cid, event.misaddressed)
        return JSONResponse({"ok": True, "messages": 0, "duplicates": 0, "statuses": 0, "ignored": event.misaddressed})

    ref = ChannelRef(
        id=cid,
        workspace_id=row.workspace_id,
        provider=provider.value,
        settings=ChannelSettings.from_config(row.config),
        agent_id=row.agent_id,
    )
    try:
        result = await batcher().submit(Delivery(ref, event, body, request.headers.get("content-type")))
    except IngestFailed:
        # Not the sender's fault: 503 makes the provider deliver it again later.
        return _error(503, "temporarily unable to store the event; retry")
    ack = adapter_class(provider).webhook_ack  # e.g. Twilio reads TwiML: an empty one sends nothing back
    if ack is not None:
        return Response(ack.body, media_type=ack.media_type)
    return JSONResponse(
        {
            "ok": True,
            "messages": len(result.new_message_ids),
            "duplicates": result.duplicates,
            "statuses": result.statuses_applied,
        }
    )
