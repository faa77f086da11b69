"""GET /inbox-media/{message_id}: a conversation's file (voice note, image, document) for the
signed-in panel user, under the same rule as the inbox (a seller only sees their conversations)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from runtime.access import NotSignedIn, UserError, principal_for_token
from runtime.config import get_settings
from runtime.panel import inbox

router = APIRouter(tags=["inbox"])


@router.get("/inbox-media/{message_id}", include_in_schema=False)
async def inbox_media(message_id: uuid.UUID, request: Request) -> Response:
    token = request.cookies.get(get_settings().session_cookie_name)
    try:
        principal = await run_in_threadpool(principal_for_token, token)
        data, mime, filename = await run_in_threadpool(inbox.media, principal, message_id)
    except NotSignedIn as exc:
        raise HTTPException(status_code=401, detail="sign in first") from exc
    except PermissionError as exc:
        raise HTTPException(status_code=404, detail="not found") from exc
    except UserError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    inline = mime.startswith(("image/", "audio/", "video/")) or mime == "application/pdf"
    disposition = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename)}"
    return Response(
        data,
        media_type=mime,
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            # A file from a lead is never a page of ours: no scripts even if it claims to be HTML.
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        },
    )
