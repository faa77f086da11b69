"""The sellers' inbox: conversations, threads, replies, copilot suggestions and takeover.

Sellers see the conversations assigned to them and the unassigned ones (the queue); owners and
admins see everything. Every call re-checks that rule on the conversation it touches, so a seller
can't open or answer a colleague's conversation by guessing its id.
"""

from __future__ import annotations

import mimetypes
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlmodel import Session, select

from db.models import (
    AgentMode,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Followup,
    FollowupStatus,
    Membership,
    Message,
    MessageStatus,
    QuickReply,
    Suggestion,
    SuggestionStatus,
    User,
    utcnow,
)
from runtime import audit
from runtime import conversations as conversation_service
from runtime.access import Forbidden, Principal, UserError, require_manager
from runtime.agent import service as agent_service
from runtime.agent.settings import FollowupStep, conversation_agent_settings
from runtime.channels.base import MessageKind, OutboundMedia, Template
from runtime.channels.registry import adapter_class
from runtime.conversations import MAX_TEXT, ConversationError
from runtime.pipeline.outbound import (
    SERVICE_WINDOW,
    ChannelUnavailable,
    OutsideServiceWindow,
    SendRefused,
    requeue_failed,
    window_open,
)
from runtime.pipeline.turns import effective_mode

VIEWS = ("todas", "minhas", "nao_atribuidas", "robo", "aguardando", "encerradas")
MAX_FILE_BYTES = 16 * 1024 * 1024  # WhatsApp's media limit (documents go up to 100 MB; kept small here)


# --- visibility -------------------------------------------------------------------------------


def _visible_sql(principal: Principal) -> str:
    return "" if principal.is_manager else " AND (c.assigned_user_id = :uid OR c.assigned_user_id IS NULL)"


def _conversation(s: Session, principal: Principal, conversation_id: Any) -> Conversation:
    """The conversation if this user may work it; Forbidden otherwise (same answer as 'missing')."""
    try:
        cid = uuid.UUID(str(conversation_id))
    except ValueError as exc:
        raise UserError("Conversa não encontrada.") from exc
    conv = s.get(Conversation, cid)
    if conv is None:
        raise UserError("Conversa não encontrada.")
    if not principal.is_manager and conv.assigned_user_id not in (None, principal.user_id):
        raise Forbidden("Esta conversa está com outro vendedor.")
    return conv


# --- the conversation list -----------------------------------------------------------------------

_VIEW_SQL = {
    "todas": "",
    "minhas": " AND c.assigned_user_id = :uid AND c.status = 'open'",
    "nao_atribuidas": " AND c.assigned_user_id IS NULL AND c.status = 'open'",
    "robo": (
        " AND c.status = 'open' AND c.handoff_requested_at IS NULL"
        " AND COALESCE(c.mode_override, a.mode, 'pilot') <> 'off'"
    ),
    "aguardando": " AND c.status = 'open' AND c.handoff_requested_at IS NOT NULL",
    "encerradas": " AND c.status = 'closed'",
}

# The newest conversations are picked first (cheap: one index), then only those get their last
# message, unread count and names: computing those for every conversation before sorting made the
# list take ~700 ms at 2,000 conversations.
_LIST_SQL = """
WITH picked AS MATERIALIZED (
  SELECT c.id, c.contact_id, c.channel_id, c.status, c.mode_override, c.assigned_user_id, c.last_message_at,
         c.handoff_requested_at, c.agent_id
  FROM conversation c {pick_joins}
  WHERE true {visible}{view}{search}
  ORDER BY (c.status = 'open' AND c.handoff_requested_at IS NOT NULL) DESC, c.last_message_at DESC NULLS LAST
  LIMIT :limit
)
SELECT c.id, c.status, c.mode_override, c.assigned_user_id, c.last_message_at,
       c.handoff_requested_at, ct.name AS contact_name, ct.phone, ch.provider, ch.name AS channel_name,
       COALESCE(c.mode_override, a.mode, 'pilot') AS mode,
       COALESCE(NULLIF(u.name, ''), u.email) AS assigned_name,
       lm.text AS last_text, lm.kind AS last_kind, lm.author AS last_author, lm.status AS last_status,
       (SELECT count(*) FROM message m
         WHERE m.conversation_id = c.id AND m.direction = 'inbound'
           AND m.created_at > COALESCE(r.last_read_at, '-infinity'::timestamptz)) AS unread
FROM picked c
JOIN contact ct ON ct.id = c.contact_id
LEFT JOIN channel ch ON ch.id = c.channel_id
LEFT JOIN agent a ON a.id = COALESCE(c.agent_id, ch.agent_id)
LEFT JOIN app_user u ON u.id = c.assigned_user_id
LEFT JOIN conversation_read r ON r.conversation_id = c.id AND r.user_id = :uid
LEFT JOIN LATERAL (
  SELECT m.text, m.kind, m.author, m.status FROM message m
  WHERE m.conversation_id = c.id ORDER BY m.created_at DESC LIMIT 1
) lm ON true
ORDER BY (c.status = 'open' AND c.handoff_requested_at IS NOT NULL) DESC, c.last_message_at DESC NULLS LAST
"""
_CONTACT_JOIN = " JOIN contact ct ON ct.id = c.contact_id"
_AGENT_JOINS = (
    " LEFT JOIN channel ch ON ch.id = c.channel_id LEFT JOIN agent a ON a.id = COALESCE(c.agent_id, ch.agent_id)"
)

KIND_PREVIEW = {
    "audio": "🎤 Mensagem de voz",
    "image": "📷 Imagem",
    "video": "🎬 Vídeo",
    "document": "📄 Documento",
    "sticker": "Figurinha",
    "location": "📍 Localização",
    "template": "Modelo aprovado",
}


def _preview(kind: str | None, body: str | None) -> str:
    body = (body or "").strip()
    if body:
        return body[:120]
    return KIND_PREVIEW.get(kind or "", "")


def conversations(principal: Principal, view: str = "todas", search: str = "", limit: int = 200) -> list[dict]:
    """The inbox list, handoffs first, then the most recent."""
    if view not in VIEWS:
        raise UserError("Filtro desconhecido.")
    params: dict[str, Any] = {"uid": principal.user_id, "limit": max(1, min(int(limit), 500))}
    search_sql = ""
    term = (search or "").strip()
    if term:
        params["q"] = f"%{term.lower()}%"
        digits = "".join(ch for ch in term if ch.isdigit())
        search_sql = " AND (lower(ct.name) LIKE :q"
        if digits:
            params["digits"] = f"%{digits}%"
            search_sql += " OR ct.phone LIKE :digits"
        search_sql += ")"
    joins = (_CONTACT_JOIN if search_sql else "") + (_AGENT_JOINS if view == "robo" else "")
    sql = _LIST_SQL.format(pick_joins=joins, visible=_visible_sql(principal), view=_VIEW_SQL[view], search=search_sql)
    with principal.session() as s:
        rows = s.execute(text(sql), params).mappings().all()
        tz = _timezone(s, principal)
    return [
        {
            "id": str(r["id"]),
            "name": r["contact_name"] or r["phone"],
            "phone": r["phone"],
            "provider": r["provider"] or "",
            "channel_name": r["channel_name"] or "",
            "status": r["status"],
            "mode": r["mode"],
            "waiting_human": r["handoff_requested_at"] is not None and r["status"] == "open",
            "assigned_to_me": r["assigned_user_id"] == principal.user_id,
            "assigned_name": r["assigned_name"] or "",
            "last_message_at": r["last_message_at"].isoformat() if r["last_message_at"] else "",
            "time_label": _short(r["last_message_at"], tz),
            "preview": _preview(r["last_kind"], r["last_text"]),
            "preview_author": r["last_author"] or "",
            "unread": int(r["unread"] or 0),
        }
        for r in rows
    ]


def view_counts(principal: Principal) -> dict[str, int]:
    """How many conversations each filter holds (open ones; unread for 'todas')."""
    counts = {}
    with principal.session() as s:
        for view in ("minhas", "nao_atribuidas", "robo", "aguardando"):
            sql = (
                "SELECT count(*) FROM conversation c LEFT JOIN channel ch ON ch.id = c.channel_id "
                "LEFT JOIN agent a ON a.id = COALESCE(c.agent_id, ch.agent_id) WHERE true"
                + _visible_sql(principal)
                + _VIEW_SQL[view]
            )
            counts[view] = int(s.execute(text(sql), {"uid": principal.user_id}).scalar_one())
    return counts


# --- one conversation -----------------------------------------------------------------------------


def _timezone(s: Session, principal: Principal) -> ZoneInfo:
    """Times are shown in the company's time zone, not the server's."""
    name = s.execute(text("SELECT timezone FROM workspace WHERE id = :w"), {"w": principal.workspace_id}).scalar()
    try:
        return ZoneInfo(name or "America/Sao_Paulo")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("America/Sao_Paulo")


def _short(at: datetime | None, tz: ZoneInfo) -> str:
    """'14:05' today, '01/12' before."""
    if at is None:
        return ""
    local = at.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == utcnow().astimezone(tz).date() else local.strftime("%d/%m")


# What a seller reads under a message whose send did not succeed, and what to do about it.
STATUS_NOTES = {
    MessageStatus.unknown: (
        "Envio não confirmado: o WhatsApp pode ter entregado. Confira com o cliente antes de reenviar, "
        "para ele não receber duas vezes."
    ),
}


def _message_view(m: Message, authors: dict[uuid.UUID, str], tz: ZoneInfo) -> dict:
    media = m.media or {}
    has_file = bool(media.get("storage_key") or media.get("data_b64"))
    who = {
        Author.lead: "Lead",
        Author.agent: "Robô",
        Author.system: "Sistema",
    }.get(m.author, authors.get(m.author_user_id, "Vendedor") if m.author_user_id else "Vendedor")
    return {
        "id": str(m.id),
        "direction": m.direction.value,
        "author": m.author.value,
        "author_name": who,
        "kind": m.kind,
        "text": m.text,
        "transcript": (m.details or {}).get("understood", "") if m.kind == "audio" else "",
        "media_url": f"/inbox-media/{m.id}" if has_file else "",
        "filename": media.get("filename") or "",
        "mime_type": media.get("stored_mime") or media.get("mime_type") or "",
        "media_error": media.get("error") or "",
        "status": m.status.value,
        "error": m.error or "",
        "status_note": STATUS_NOTES.get(m.status, ""),
        "created_at": m.created_at.isoformat(),
        "time": m.created_at.astimezone(tz).strftime("%H:%M"),
        "day": m.created_at.astimezone(tz).strftime("%d/%m/%Y"),
        "template": ((m.details or {}).get("template") or {}).get("name", ""),
        "followup": bool((m.details or {}).get("followup_id")),
    }


def _window(conv: Conversation, channel: Channel | None, tz: ZoneInfo) -> dict:
    has_window = bool(channel and adapter_class(channel.provider).has_service_window)
    if not has_window:
        return {"has_window": False, "open": True, "closes_at": "", "closes_label": ""}
    is_open = window_open(conv)
    closes = conv.last_inbound_at + SERVICE_WINDOW if conv.last_inbound_at else None
    return {
        "has_window": True,
        "open": is_open,
        "closes_at": closes.isoformat() if closes and is_open else "",
        "closes_label": closes.astimezone(tz).strftime("%d/%m %H:%M") if closes and is_open else "",
    }


def _lead_view(contact: Contact) -> dict:
    return {
        "id": str(contact.id),
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email or "",
        "lead_type": contact.lead_type,
        "stage": contact.stage,
        "score": contact.score,
        "notes": contact.notes,
        "tags": list(contact.tags or []),
        "crm_url": contact.crm_url or "",
        "fields": {str(k): str(v) for k, v in (contact.fields or {}).items()},
        "opted_out": contact.opted_out_at is not None,
    }


def _followup_view(s: Session, conv: Conversation, steps: list[FollowupStep], tz: ZoneInfo) -> dict:
    """The conversation's follow-up cadence as the seller sees it: the next step, if any, and the
    last steps with what happened to them. `steps`: the agent's cadence."""
    from runtime.followups import labels

    rows = list(
        s.exec(
            select(Followup)
            .where(Followup.conversation_id == conv.id)
            .order_by(Followup.created_at.desc(), Followup.step.desc())
            .limit(6)
        )
    )
    pending = next((f for f in rows if f.status == FollowupStatus.scheduled), None)

    def when(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%d/%m %H:%M") if at else ""

    return {
        "pending": (
            {
                "id": str(pending.id),
                "step": pending.step + 1,
                "of": len(steps),
                "due": when(pending.due_at),
                "content": labels.CONTENT_LABELS.get(steps[pending.step].content, "")
                if pending.step < len(steps)
                else "",
            }
            if pending
            else None
        ),
        "history": [
            {
                "id": str(f.id),
                "step": f.step + 1,
                "status": f.status.value,
                "status_label": labels.STATUS_LABELS.get(f.status.value, f.status.value),
                "when": when(f.sent_at or f.updated_at),
                "reason": labels.describe_reason(f.reason),
            }
            for f in rows
            if f.status != FollowupStatus.scheduled
        ][:5],
    }


def _mark_read(s: Session, principal: Principal, conv: Conversation) -> None:
    s.execute(
        text(
            "INSERT INTO conversation_read (user_id, conversation_id, workspace_id, last_read_at) "
            "VALUES (:u, :c, :w, now()) ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_read_at = now()"
        ),
        {"u": principal.user_id, "c": conv.id, "w": conv.workspace_id},
    )


def thread(principal: Principal, conversation_id: Any, limit: int = 300) -> dict:
    """Everything the open conversation shows: header, messages, copilot suggestion, lead. Marks it read."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        contact = s.get(Contact, conv.contact_id)
        channel = s.get(Channel, conv.channel_id) if conv.channel_id else None
        agent, settings = conversation_agent_settings(s, conv)
        messages = list(
            s.exec(
                select(Message)
                .where(Message.conversation_id == conv.id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit)
            )
        )[::-1]
        user_ids = {m.author_user_id for m in messages if m.author_user_id} | (
            {conv.assigned_user_id} if conv.assigned_user_id else set()
        )
        authors = {
            u.id: (u.name or u.email) for u in (s.exec(select(User).where(User.id.in_(user_ids))) if user_ids else [])
        }
        suggestion = s.exec(
            select(Suggestion)
            .where(Suggestion.conversation_id == conv.id, Suggestion.status == SuggestionStatus.pending)
            .order_by(Suggestion.created_at.desc())
            .limit(1)
        ).first()
        mode = effective_mode(conv, agent)
        tz = _timezone(s, principal)
        view = {
            "id": str(conv.id),
            "status": conv.status.value,
            "mode": mode,
            "taken_over": conv.mode_override == AgentMode.off,
            "agent_name": agent.name if agent else "",
            "assigned_user_id": str(conv.assigned_user_id) if conv.assigned_user_id else "",
            "assigned_name": authors.get(conv.assigned_user_id, "") if conv.assigned_user_id else "",
            "provider": channel.provider.value if channel else "",
            "channel_name": channel.name if channel else "",
            "channel_active": bool(channel and channel.is_active),
            "window": _window(conv, channel, tz),
            "handoff": {
                "waiting": conv.handoff_requested_at is not None,
                "question": conv.handoff_question or "",
                "reason": conv.handoff_reason or "",
                "at": conv.handoff_requested_at.isoformat() if conv.handoff_requested_at else "",
            },
            "suggestion": (
                {
                    "id": str(suggestion.id),
                    "draft": suggestion.draft,
                    "next_step": suggestion.next_step,
                    "intent": str((suggestion.details or {}).get("intent") or ""),
                    "sources": [str(x) for x in (suggestion.details or {}).get("sources") or []][:5],
                }
                if suggestion
                else None
            ),
            "messages": [_message_view(m, authors, tz) for m in messages],
            "lead": _lead_view(contact),
            "followup": _followup_view(s, conv, settings.followups.steps, tz),
        }
        _mark_read(s, principal, conv)
        s.commit()
    return view


def mark_read(principal: Principal, conversation_id: Any) -> None:
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        _mark_read(s, principal, conv)
        s.commit()


# --- replying -------------------------------------------------------------------------------------


def _send_errors(exc: Exception) -> UserError:
    """A refusal of the conversation service or of the send path, as the seller reads it."""
    if isinstance(exc, OutsideServiceWindow):
        return UserError(
            "A janela de 24 horas do WhatsApp está fechada: o lead não escreve há mais de 24 horas. "
            "Envie um modelo aprovado."
        )
    if isinstance(exc, ChannelUnavailable):
        return UserError("O canal desta conversa está desativado ou foi removido.")
    return UserError(str(exc))


def send_text(principal: Principal, conversation_id: Any, body: str) -> dict:
    """A seller's message. If it answers the agent's handoff question, the answer is learned."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        try:
            message = conversation_service.seller_reply(s, conv, body, user_id=principal.user_id)
        except (ConversationError, SendRefused) as exc:
            raise _send_errors(exc) from exc
        _mark_read(s, principal, conv)
        s.commit()
        return {"message_id": str(message.id), "learned": "learned_answer_id" in message.details}


def _kind_for(mime: str) -> MessageKind:
    if mime.startswith("image/"):
        return MessageKind.image
    if mime.startswith("audio/"):
        return MessageKind.audio
    if mime.startswith("video/"):
        return MessageKind.video
    return MessageKind.document


def _send_seller_media(
    principal: Principal, conversation_id: Any, kind: MessageKind, media: OutboundMedia, caption: str = ""
) -> str:
    """Queue a seller's file in an open conversation (claiming it if unassigned); its message id."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        try:
            message = conversation_service.seller_media(s, conv, kind, media, caption, user_id=principal.user_id)
        except (ConversationError, SendRefused) as exc:
            raise _send_errors(exc) from exc
        s.commit()
        return str(message.id)


def send_file(principal: Principal, conversation_id: Any, filename: str, data: bytes, caption: str = "") -> dict:
    """An attachment (image, document, recorded or uploaded audio) from the seller."""
    if not data:
        raise UserError("O arquivo está vazio.")
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"O arquivo passa do limite de {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    name = (filename or "arquivo").rsplit("/", 1)[-1][:200]
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    kind = _kind_for(mime)
    media = OutboundMedia(mime_type=mime, data=data, filename=name)
    message_id = _send_seller_media(principal, conversation_id, kind, media, (caption or "").strip()[:1024])
    return {"message_id": message_id, "kind": kind.value}


def send_voice_note(principal: Principal, conversation_id: Any, audio: bytes, mime_type: str = "") -> dict:
    """A voice note recorded in the browser: converted to OGG/Opus, the format WhatsApp plays as a
    voice message, then sent like any attachment."""
    from runtime.media.audio import AudioError, to_whatsapp_voice

    if not audio:
        raise UserError("A gravação está vazia.")
    if len(audio) > MAX_FILE_BYTES:
        raise UserError(f"A gravação passa do limite de {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        voice = to_whatsapp_voice(audio, mime_type or None)
    except AudioError as exc:
        raise UserError("Não foi possível ler a gravação. Tente gravar de novo.") from exc
    media = OutboundMedia(mime_type="audio/ogg", data=voice, filename="audio.ogg")
    return {"message_id": _send_seller_media(principal, conversation_id, MessageKind.audio, media), "bytes": len(voice)}


def send_template(
    principal: Principal, conversation_id: Any, name: str, language: str = "pt_BR", variables: list[str] | None = None
) -> dict:
    """An approved template: the only thing that may go out when the 24-hour window is closed."""
    name = (name or "").strip()
    if not name:
        raise UserError("Informe o nome do modelo aprovado (ou o ContentSid do Twilio).")
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        template = Template(name=name, language=(language or "pt_BR").strip(), variables=list(variables or []))
        try:
            message = conversation_service.seller_template(s, conv, template, user_id=principal.user_id)
        except SendRefused as exc:
            raise _send_errors(exc) from exc
        s.commit()
        return {"message_id": str(message.id)}


def retry_message(principal: Principal, conversation_id: Any, message_id: Any) -> None:
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        message = s.get(Message, uuid.UUID(str(message_id)))
        if message is None or message.conversation_id != conv.id:
            raise UserError("Mensagem não encontrada.")
        try:
            requeue_failed(s, message)
        except ValueError as exc:
            raise UserError("Só é possível reenviar uma mensagem que falhou ou não foi confirmada.") from exc
        s.commit()


def decide_suggestion(
    principal: Principal, conversation_id: Any, suggestion_id: Any, action: str, edited: str | None = None
) -> dict:
    """Copilot: accept (sends the draft), edit (sends the seller's text) or dismiss. All recorded."""
    if action not in ("accept", "edit", "reject"):
        raise UserError("Ação desconhecida.")
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        suggestion = s.get(Suggestion, uuid.UUID(str(suggestion_id)))
        if suggestion is None or suggestion.conversation_id != conv.id:
            raise UserError("Sugestão não encontrada.")
        if suggestion.status != SuggestionStatus.pending:
            raise UserError("Esta sugestão já foi tratada.")
        if action == "edit" and not (edited or "").strip():
            raise UserError("Escreva o texto que será enviado.")
        try:
            agent_service.decide_suggestion(s, conv, suggestion, action=action, text=edited, user_id=principal.user_id)
        except (ConversationError, SendRefused) as exc:
            raise _send_errors(exc) from exc
        s.commit()
        return {"status": suggestion.status}


# --- takeover, assignment, closing ----------------------------------------------------------------


def take_over(principal: Principal, conversation_id: Any) -> None:
    """'Assumir': the bot stays silent in this conversation and it becomes this seller's."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        conversation_service.take_over(s, conv, principal.user_id)
        s.commit()
    audit.record(
        principal.workspace_id,
        "inbox.take_over",
        user_id=principal.user_id,
        target_type="conversation",
        target_id=str(conv.id),
    )


def cancel_followup(principal: Principal, conversation_id: Any) -> None:
    """Stop the automatic follow-up of this silence (e.g. the seller is handling it by phone); the
    cadence starts again after the lead's next message and our reply."""
    from runtime.followups.service import cancel_pending

    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        user = s.get(User, principal.user_id)
        who = (user.name or user.email) if user else "um vendedor"
        if not cancel_pending(s, conv.id, f"cancelled by {who}"):
            raise UserError("Não há follow-up agendado nesta conversa (ou ele está sendo enviado agora).")
        s.commit()
    audit.record(
        principal.workspace_id,
        "inbox.cancel_followup",
        user_id=principal.user_id,
        target_type="conversation",
        target_id=str(conv.id),
    )


def hand_back(principal: Principal, conversation_id: Any) -> None:
    """'Devolver ao robô': the bot answers again from the next lead message."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        conversation_service.release(s, conv)
        s.commit()
    audit.record(
        principal.workspace_id,
        "inbox.hand_back",
        user_id=principal.user_id,
        target_type="conversation",
        target_id=str(conv.id),
    )


def team(principal: Principal) -> list[dict]:
    """Active members a conversation can be transferred to."""
    with principal.session() as s:
        rows = s.exec(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == principal.workspace_id, Membership.is_active, User.is_active)
            .order_by(User.name, User.email)
        ).all()
    return [{"id": str(u.id), "name": u.name or u.email, "role": m.role.value} for u, m in rows]


def assign(principal: Principal, conversation_id: Any, user_id: Any) -> None:
    """Assign / transfer. Sellers may take unassigned conversations and pass on their own."""
    target = uuid.UUID(str(user_id)) if user_id else None
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        try:
            conversation_service.transfer(s, conv, target)
        except ConversationError as exc:
            raise UserError(str(exc)) from exc
        s.commit()
    audit.record(
        principal.workspace_id,
        "inbox.assign",
        user_id=principal.user_id,
        target_type="conversation",
        target_id=str(conv.id),
        data={"to": str(target) if target else None},
    )


def set_status(principal: Principal, conversation_id: Any, status: str) -> None:
    """Close ('encerrar') or reopen a conversation."""
    if status not in ("open", "closed"):
        raise UserError("Situação desconhecida.")
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        try:
            if status == "open":
                conversation_service.reopen(s, conv)
            elif conv.status != ConversationStatus.closed:
                conversation_service.close(s, conv)
        except ConversationError as exc:
            raise UserError(str(exc)) from exc
        s.commit()


# --- the lead -------------------------------------------------------------------------------------


def update_lead(principal: Principal, conversation_id: Any, data: dict) -> dict:
    """Edit the lead from the sidebar: name, e-mail, stage, score, type, notes, tags, CRM link, fields."""
    with principal.session() as s:
        conv = _conversation(s, principal, conversation_id)
        contact = s.get(Contact, conv.contact_id)
        try:
            conversation_service.update_lead(s, contact, data, conversation_id=conv.id)
        except ConversationError as exc:
            raise UserError(str(exc)) from exc
        s.commit()
        return _lead_view(contact)


# --- media ----------------------------------------------------------------------------------------


def media(principal: Principal, message_id: Any) -> tuple[bytes, str, str]:
    """(bytes, mime type, file name) of a message's file, for the inbox's player and downloads."""
    import base64

    from runtime.media.storage import StorageError, get_storage

    with principal.session() as s:
        try:
            message = s.get(Message, uuid.UUID(str(message_id)))
        except ValueError:
            message = None
        if message is None:
            raise UserError("Arquivo não encontrado.")
        _conversation(s, principal, message.conversation_id)
        info = dict(message.media or {})
    mime = info.get("stored_mime") or info.get("mime_type") or "application/octet-stream"
    name = info.get("filename") or f"arquivo-{message_id}"
    if info.get("data_b64"):
        return base64.b64decode(info["data_b64"]), mime, name
    if info.get("storage_key"):
        try:
            return get_storage().get(info["storage_key"]), mime, name
        except StorageError as exc:
            raise UserError("Arquivo não encontrado.") from exc
    raise UserError("Este arquivo ainda não foi baixado do WhatsApp.")


# --- quick replies --------------------------------------------------------------------------------


def quick_replies(principal: Principal) -> list[dict]:
    with principal.session() as s:
        rows = s.exec(select(QuickReply).order_by(QuickReply.shortcut)).all()
    return [{"id": str(q.id), "shortcut": q.shortcut, "text": q.text} for q in rows]


def save_quick_reply(principal: Principal, shortcut: str, body: str) -> dict:
    require_manager(principal)
    shortcut = "/" + (shortcut or "").strip().lstrip("/").lower()
    body = (body or "").strip()
    if len(shortcut) < 2 or " " in shortcut or len(shortcut) > 40:
        raise UserError("O atalho deve ser uma palavra, por exemplo /preco.")
    if not body:
        raise UserError("Escreva o texto da resposta rápida.")
    with principal.session() as s:
        row = s.exec(select(QuickReply).where(QuickReply.shortcut == shortcut)).first() or QuickReply(
            workspace_id=principal.workspace_id, shortcut=shortcut, text=body
        )
        row.text = body[:MAX_TEXT]
        s.add(row)
        s.commit()
        return {"id": str(row.id), "shortcut": row.shortcut, "text": row.text}


def delete_quick_reply(principal: Principal, quick_reply_id: Any) -> None:
    require_manager(principal)
    with principal.session() as s:
        row = s.get(QuickReply, uuid.UUID(str(quick_reply_id)))
        if row is not None:
            s.delete(row)
            s.commit()


# --- the owner's view of the sellers ------------------------------------------------------------

_ACTIVITY_SQL = """
WITH seller_msgs AS (
  SELECT m.author_user_id AS uid, m.conversation_id, m.created_at,
         (SELECT max(l.created_at) FROM message l
           WHERE l.conversation_id = m.conversation_id AND l.direction = 'inbound' AND l.created_at < m.created_at
             AND NOT EXISTS (SELECT 1 FROM message o WHERE o.conversation_id = m.conversation_id
                              AND o.direction = 'outbound' AND o.created_at > l.created_at
                              AND o.created_at < m.created_at)) AS answered_lead_at
  FROM message m
  WHERE m.author = 'seller' AND m.author_user_id IS NOT NULL AND m.created_at >= :since
)
SELECT sm.uid, COALESCE(NULLIF(u.name, ''), u.email) AS name, count(*) AS messages,
       count(DISTINCT sm.conversation_id) AS conversations, max(sm.created_at) AS last_at,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sm.created_at - sm.answered_lead_at))
         FILTER (WHERE sm.answered_lead_at IS NOT NULL) AS median_response_s
FROM seller_msgs sm JOIN app_user u ON u.id = sm.uid
GROUP BY sm.uid, u.name, u.email ORDER BY messages DESC
"""


def activity(principal: Principal, since: datetime | None = None) -> dict:
    """Who answered what and how fast: per seller totals and the latest actions."""
    require_manager(principal)
    from datetime import timedelta

    since = since or utcnow() - timedelta(days=30)
    with principal.session() as s:
        sellers = s.execute(text(_ACTIVITY_SQL), {"since": since}).mappings().all()
        recent = s.execute(
            text(
                "SELECT m.created_at, COALESCE(NULLIF(u.name, ''), u.email) AS seller, ct.name, ct.phone, "
                "m.text, m.kind "
                "FROM message m JOIN app_user u ON u.id = m.author_user_id "
                "JOIN conversation c ON c.id = m.conversation_id JOIN contact ct ON ct.id = c.contact_id "
                "WHERE m.author = 'seller' AND m.created_at >= :since ORDER BY m.created_at DESC LIMIT 50"
            ),
            {"since": since},
        ).mappings()
        recent = [dict(r) for r in recent]
        tz = _timezone(s, principal)
    return {
        "sellers": [
            {
                "user_id": str(r["uid"]),
                "name": r["name"],
                "messages": int(r["messages"]),
                "conversations": int(r["conversations"]),
                "last_at": r["last_at"].isoformat(),
                "last_label": r["last_at"].astimezone(tz).strftime("%d/%m %H:%M"),
                "median_response_s": None if r["median_response_s"] is None else round(float(r["median_response_s"])),
            }
            for r in sellers
        ],
        "recent": [
            {
                "at": r["created_at"].isoformat(),
                "at_label": r["created_at"].astimezone(tz).strftime("%d/%m %H:%M"),
                "seller": r["seller"],
                "lead": r["name"] or r["phone"],
                "text": _preview(r["kind"], r["text"]),
            }
            for r in recent
        ],
    }
