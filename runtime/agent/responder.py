"""The agent as the pipeline's responder: runs the turn graph, then applies its effects (lead
qualification, opt-out, handoff, documents to send) in the turn's transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from db.models import (
    Agent,
    Author,
    Contact,
    Conversation,
    ConversationStatus,
    DocumentStatus,
    KnowledgeBlob,
    KnowledgeDocument,
    TurnRoute,
)
from db.tenancy import tenant_session
from runtime import conversations
from runtime.channels.base import ChannelAdapter, MessageKind, OutboundMedia
from runtime.channels.registry import PROVIDERS, adapter_class
from runtime.pipeline.responder import LeadMessage, Reply, TurnContext, TurnResult

from .graph import TurnDeps, run_graph
from .llm import build_model, model_label
from .settings import AgentSettings
from .tools import TurnEffects

log = logging.getLogger(__name__)

_PLACEHOLDERS = {"audio": "áudio", "image": "imagem", "video": "vídeo", "document": "documento", "sticker": "figurinha"}


def burst_text(messages: Sequence[LeadMessage]) -> str:
    """The burst as the agent reads it: typed text, transcripts, image and document contents, and
    what could not be read (so the agent says so instead of guessing)."""
    parts = []
    for m in messages:
        label = _PLACEHOLDERS.get(m.kind)
        understood = m.details.get("understood")
        if label and understood:
            parts.append(f"[{label} do cliente] {understood}" + (f"\n{m.text}" if m.text else ""))
        elif label and m.details.get("media_status") == "failed":
            parts.append(f"[o cliente enviou um(a) {label} que não consegui ler: {m.details.get('media_error')}]")
        elif m.text:
            parts.append(m.text)
        elif label:
            parts.append(f"[{label}]")
    return "\n".join(p for p in parts if p).strip()


_UNREADABLE = {
    "audio": "Não consegui ouvir seu áudio 😕 Pode mandar de novo ou escrever?",
    "image": "Não consegui ver direito a imagem 😕 Pode mandar de novo ou escrever o que precisa?",
    "document": "Não consegui abrir o arquivo 😕 Pode mandar de novo (PDF ou DOCX) ou escrever o que precisa?",
}


def unreadable_reply(messages: Sequence[LeadMessage]) -> str | None:
    """Only unreadable media and no text: say what could not be read instead of guessing."""
    if not messages or any(m.text or m.details.get("media_status") != "failed" for m in messages):
        return None
    return _UNREADABLE.get(messages[-1].kind, _UNREADABLE["document"])


@dataclass
class AgentTurn:
    """What the agent decided for one burst, before anything is applied: the reply, the graph's
    state, the tools' effects and the details stored on the turn (route, intent, lead type,
    confidence, sources, tokens, tool calls, next step)."""

    reply: str
    route: str | None
    details: dict[str, Any]
    settings: AgentSettings
    effects: TurnEffects = field(default_factory=TurnEffects)
    action: str = ""


def run_agent_turn(
    workspace_id: uuid.UUID,
    agent_id: uuid.UUID,
    conversation_id: uuid.UUID,
    messages: Sequence[LeadMessage],
    *,
    contact_name: str = "",
    lead_fields: dict | None = None,
) -> AgentTurn:
    """One turn of the agent (the turn graph) for a burst of lead messages. Pure decision: nothing
    is written except the graph's checkpoint (the conversation's memory) and a learned answer's use
    count. The pipeline applies the effects; the terminal chat and the panel's playground show them."""
    with tenant_session(workspace_id) as s:
        agent = s.get(Agent, agent_id)
        settings = AgentSettings.model_validate(agent.config or {})
        agent_name = agent.name
        model, model_error = build_model(agent, settings)
    cannot = unreadable_reply(messages)
    if cannot is not None:
        errors = [m.details.get("media_error") for m in messages]
        return AgentTurn(
            reply=cannot,
            route=TurnRoute.media_error,
            details={"route": TurnRoute.media_error, "errors": errors},
            settings=settings,
        )
    lead_fields = dict(lead_fields or {})
    question = burst_text(messages)
    reply_id = next((m.details.get("reply_id") for m in reversed(messages) if m.details.get("reply_id")), None)
    deps = TurnDeps(
        workspace_id=workspace_id,
        agent_id=agent_id,
        agent_name=agent_name,
        settings=settings,
        contact_name=contact_name,
        lead_fields=lead_fields,
        now=datetime.now(UTC),
        model=model,
        model_error=model_error,
    )
    state = run_graph(deps, conversation_id, question, reply_id)
    effects = deps.effects
    action = state.get("action") or ""
    details = {
        "route": state.get("route"),
        "intent": state.get("intent"),
        "action": action or None,
        "lead_type": effects.lead_type or "lead",
        "confidence": state.get("confidence"),
        "sources": state.get("sources", []),
        "tokens": state.get("tokens", {}),
        "model": model_label(settings) if model is not None else None,  # prices the tokens (dashboard)
        "tool_calls": effects.calls,
        "learned_id": state.get("learned_id"),
        "question": question,
        "next_step": _next_step(settings, lead_fields, effects, state),
    }
    return AgentTurn(
        reply=state.get("reply", ""),
        route=state.get("route"),
        details=details,
        settings=settings,
        effects=effects,
        action=action,
    )


class AgentResponder:
    def decide(self, ctx: TurnContext) -> TurnResult:
        with tenant_session(ctx.workspace_id) as s:
            contact = s.get(Contact, ctx.contact_id)
            lead_fields = dict(contact.fields or {})
        turn = run_agent_turn(
            ctx.workspace_id,
            ctx.agent_id,
            ctx.conversation_id,
            ctx.messages,
            contact_name=ctx.contact_name,
            lead_fields=lead_fields,
        )
        if turn.route == TurnRoute.media_error:
            return TurnResult(replies=[Reply(text=turn.reply)], route=turn.route, details=turn.details)
        settings, effects, action, details = turn.settings, turn.effects, turn.action, turn.details
        replies = [Reply(text=turn.reply)] if turn.reply else []
        if replies and _speaks(settings, ctx):
            channel = _channel_adapter(ctx)
            if channel is not None and not channel.sends_media_bytes:
                # Twilio fetches media from a public URL; bytes can't be sent: keep the text.
                details["voice"] = f"skipped: {channel.label} needs a public media URL"
            else:
                replies[0], details["voice"] = _spoken(replies[0], settings)
        documents = list(effects.documents)
        if action == "price_list":
            documents.append("*price-list*")

        def apply(session: Session, conversation: Conversation) -> str | None:
            conversations.apply_agent_findings(
                session,
                session.get(Contact, ctx.contact_id),
                conversation_id=conversation.id,
                fields=effects.lead_fields,
                stage=effects.lead_stage,
                score=effects.score,
                lead_type=effects.lead_type,
                opted_out=action == "opt_out",
            )
            if effects.handoff and ctx.mode == "pilot":
                reason, asked = effects.handoff
                conversations.request_handoff(session, conversation, reason, asked)
                if settings.handoff.notify_seller_phone:
                    details["seller_notification"] = notify_seller(
                        session, conversation, settings.handoff.notify_seller_phone, ctx.contact_name, asked
                    )
            for name in documents:
                doc_reply = _document_reply(session, name)
                if doc_reply is not None:
                    replies.append(doc_reply)
                elif name == "*price-list*" and replies:
                    replies[0] = Reply(text="Vou pedir para alguém da equipe te enviar nossa tabela de preços. 🙂")
            return None  # the turn sends (pilot) or suggests (copilot) the replies

        return TurnResult(replies=replies, route=turn.route, details=details, apply=apply)


def notify_seller(session: Session, conversation: Conversation, phone: str, lead_name: str, question: str) -> str:
    """A WhatsApp message to the seller's own phone through the same channel. Official APIs only
    allow it inside the seller's 24-hour window (or with a template): otherwise it is skipped and
    the inbox flag is the notification."""
    from runtime.contacts import ContactError, normalize_phone
    from runtime.pipeline.outbound import SendRefused, queue_message

    try:
        seller_phone = normalize_phone(phone)
    except ContactError:
        return "skipped: invalid seller phone"
    seller = session.exec(select(Contact).where(Contact.phone == seller_phone)).first()
    if seller is None:
        seller = Contact(workspace_id=conversation.workspace_id, phone=seller_phone, name="Vendedor", lead_type="other")
        session.add(seller)
        session.flush()
    thread = session.exec(
        select(Conversation).where(
            Conversation.contact_id == seller.id,
            Conversation.channel_id == conversation.channel_id,
            Conversation.status == ConversationStatus.open,
        )
    ).first()
    if thread is None:
        thread = Conversation(
            workspace_id=conversation.workspace_id, contact_id=seller.id, channel_id=conversation.channel_id
        )
        session.add(thread)
        session.flush()
    who = lead_name or "Um cliente"
    try:
        with session.begin_nested():
            queue_message(
                session,
                thread,
                text=f"🔔 {who} precisa de atendimento humano: “{question[:300]}”",
                author=Author.system,
            )
    except SendRefused as exc:
        return f"skipped: {exc}"[:200]
    return "sent"


def _channel_adapter(ctx: TurnContext) -> type[ChannelAdapter] | None:
    with tenant_session(ctx.workspace_id) as s:
        provider = s.execute(text("SELECT provider FROM channel WHERE id = :c"), {"c": ctx.channel_id}).scalar()
    return adapter_class(provider) if provider in PROVIDERS else None


def _speaks(settings: AgentSettings, ctx: TurnContext) -> bool:
    mode = settings.voice.replies
    return mode == "always" or (mode == "when_lead_sent_audio" and any(m.kind == "audio" for m in ctx.messages))


def _spoken(reply: Reply, settings: AgentSettings) -> tuple[Reply, str]:
    """The reply as a voice note (the text stays on the message for the inbox); text if TTS fails."""
    from runtime.media.tts import SpeechError, get_synthesizer

    try:
        synthesizer = get_synthesizer()
        if synthesizer is None:
            return reply, "off: TTS_PROVIDER=none"
        speech = synthesizer.synthesize(_speakable(reply.text), voice_id=settings.voice.voice_id, language="pt-BR")
    except SpeechError as exc:
        return reply, f"failed: {exc}"[:300]
    media = OutboundMedia(mime_type=speech.mime_type, data=speech.audio, filename="resposta.ogg")
    return Reply(kind=MessageKind.audio, text=reply.text, media=media, details={"tts": speech.provider}), "sent"


def _speakable(text: str) -> str:
    """Citations like [1] are for reading, not for hearing."""
    import re

    return re.sub(r"\s*\[\d+\]", "", text).strip()


def _next_step(settings: AgentSettings, fields: dict, effects: Any, state: dict) -> str:
    if effects.handoff:
        return "Responder a pergunta do cliente: o agente não encontrou a resposta no conhecimento."
    known = {**fields, **effects.lead_fields}
    missing = [q for q in settings.qualification if q.required and q.key not in known]
    if missing:
        return f"Descobrir: {missing[0].label}" + (f" — {missing[0].question}" if missing[0].question else "")
    if settings.qualification:
        return "Lead qualificado: propor o próximo passo (orçamento, visita ou reunião)."
    return "Aguardar a resposta do cliente."


_PRICE_WORDS = ("preco", "preço", "precos", "preços", "tabela", "catalogo", "catálogo", "valores")


def _document_reply(session: Session, name: str) -> Reply | None:
    stmt = select(KnowledgeDocument).where(KnowledgeDocument.status == DocumentStatus.ready)
    if name == "*price-list*":
        docs = [d for d in session.exec(stmt).all() if any(w in d.filename.lower() for w in _PRICE_WORDS)]
        doc = docs[0] if docs else None
    else:
        doc = session.exec(stmt.where(KnowledgeDocument.filename == name)).first()
    if doc is None:
        return None
    blob = session.get(KnowledgeBlob, doc.id)
    if blob is None:
        return None
    media = OutboundMedia(mime_type=doc.mime_type or "application/octet-stream", data=blob.data, filename=doc.filename)
    return Reply(kind=MessageKind.document, text=doc.title, media=media, details={"document_id": str(doc.id)})
