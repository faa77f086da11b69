"""Turning a lead's media into text the agent can read: voice notes transcribed, images described
and read, documents' text extracted (capped). A file that can't be understood still reaches the
seller (it is stored) and is marked with the reason, so the agent says what it could not read."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from db.models import Channel, Message
from db.tenancy import tenant_session
from runtime.channels.base import Media, MediaError
from runtime.channels.registry import build_adapter, channel_config, http_client
from runtime.config import get_settings
from runtime.pgtext import pg_json, pg_text

from .storage import get_storage

log = logging.getLogger(__name__)

MEDIA_KINDS = {"audio", "image", "document", "video", "sticker"}
DOCUMENT_TEXT_LIMIT = 6000  # characters of a document given to the turn


@dataclass(frozen=True)
class Understood:
    status: str  # ok | failed | skipped
    text: str = ""
    error: str | None = None


def needs_understanding(message: Message) -> bool:
    return message.kind in MEDIA_KINDS and not (message.media or {}).get("status")


async def _download(message: Message, channel: Channel) -> tuple[bytes, str]:
    media = message.media or {}
    config = channel_config(channel.id, channel.provider, channel.credentials_encrypted, channel.api_base_url)
    async with http_client() as http:
        adapter = build_adapter(config, http)
        got = await adapter.download_media(
            Media(
                id=media.get("id"),
                url=media.get("url"),
                mime_type=media.get("mime_type"),
                filename=media.get("filename"),
                voice=bool(media.get("voice")),
                extra=media.get("extra") or {},
            )
        )
    return got.data, got.mime_type or media.get("mime_type") or "application/octet-stream"


def media_kind(mime_type: str | None, filename: str | None = None) -> str:
    """How a file is understood, as WhatsApp labels messages: audio, image, video or document."""
    import mimetypes

    mime = (mime_type or "").split(";")[0].strip().lower()
    if not mime or mime == "application/octet-stream":
        mime = (mimetypes.guess_type(filename or "")[0] or "").lower()
    for kind in ("audio", "image", "video"):
        if mime.startswith(kind + "/"):
            return kind
    return "document"


def understand_bytes(
    kind: str, data: bytes, mime: str, filename: str | None = None, language: str | None = None
) -> Understood:
    """A file's bytes as text the agent can read (size limits first): the same reading whether the
    file came from a lead on WhatsApp or from the panel's playground."""
    settings = get_settings()
    if not data:
        return Understood("failed", error="Arquivo vazio.")
    if len(data) > settings.media_max_bytes:
        return Understood("failed", error=f"Arquivo maior que o limite de {settings.media_max_bytes // 1_000_000} MB.")
    return interpret(kind, data, mime, filename, language)


def interpret(kind: str, data: bytes, mime: str, filename: str | None, language: str | None = None) -> Understood:
    """Transcribe (audio), describe and read (image), or extract text (document) from a file."""
    settings = get_settings()
    if kind in ("audio",):
        from .stt import TranscriptionError, get_transcriber

        transcriber = get_transcriber(settings)
        if transcriber is None:
            return Understood("skipped", error="transcrição de áudio desligada (STT_PROVIDER=none)")
        try:
            transcript = transcriber.transcribe(data, mime, language=language or settings.stt_language)
        except TranscriptionError as exc:
            return Understood("failed", error=str(exc))
        if not transcript.text.strip():
            return Understood("failed", error="Não consegui entender nada no áudio.")
        return Understood("ok", text=transcript.text.strip())
    if kind in ("image", "sticker"):
        from .vision import VisionError, understand_image

        try:
            return Understood("ok", text=understand_image(data, mime, settings).as_text())
        except VisionError as exc:
            return Understood("failed", error=str(exc))
    if kind == "document":
        from runtime.knowledge.isolated import extract_isolated
        from runtime.knowledge.types import ExtractionError

        try:
            doc = extract_isolated(data, filename or "documento", mime, max_bytes=settings.media_max_bytes)
        except ExtractionError as exc:
            return Understood("failed", error=str(exc))
        text = "\n".join(s.text for s in doc.sections).strip()
        if len(text) > DOCUMENT_TEXT_LIMIT:
            text = text[:DOCUMENT_TEXT_LIMIT].rsplit(" ", 1)[0] + " …(documento longo: trecho inicial)"
        return Understood("ok", text=f"Documento {doc.title}:\n{text}")
    return Understood("skipped", error=f"tipo {kind} não é interpretado")


def understand_message(workspace_id: uuid.UUID, message_id: uuid.UUID, language: str | None = None) -> Understood:
    """Download, store and interpret one inbound media message; the result is saved on it.
    `language`: the agent's language as a hint for speech-to-text (else STT_LANGUAGE)."""
    settings = get_settings()
    with tenant_session(workspace_id) as s:
        message = s.get(Message, message_id)
        channel = s.get(Channel, message.channel_id) if message and message.channel_id else None
        if message is None or channel is None or not needs_understanding(message):
            return Understood("skipped")
        kind, filename = message.kind, (message.media or {}).get("filename")
    filename = pg_text(filename) if filename else filename
    key = mime = None
    try:
        data, mime = asyncio.run(_download(message, channel))
        if not data or len(data) > settings.media_max_bytes:
            result = understand_bytes(kind, data, mime, filename, language)
        else:
            key = get_storage().put(workspace_id, data, mime, filename)
            result = interpret(kind, data, mime, filename, language)
    except MediaError as exc:
        result, mime = Understood("failed", error=str(exc)), None
    except Exception:  # still a failed file with a reason: the lead gets the honest reply, not a guess
        log.exception("media understanding crashed message=%s", message_id)
        result = Understood("failed", error="Erro interno ao ler o arquivo.")
    with tenant_session(workspace_id) as s:
        message = s.get(Message, message_id)
        media = dict(message.media or {})
        media.update({"status": result.status, "error": result.error, "storage_key": key, "stored_mime": mime})
        # transcripts, OCR and provider answers are text from outside: PostgreSQL refuses NUL in jsonb
        message.media = pg_json({k: v for k, v in media.items() if v is not None})
        if result.text:
            details = dict(message.details or {})
            details["understood"] = pg_text(result.text)
            message.details = details
        s.add(message)
        s.commit()
    if result.status == "failed":
        log.info("media not understood message=%s: %s", message_id, result.error)
    return result
