"""Scheduling, cancelling and running follow-up steps.

The model: a cadence counts from the lead's last message (`silence_since`). When we reply (the
agent, or a seller) and the lead goes quiet, the first step still ahead is scheduled: one
`followup` row (status 'scheduled', at most one per conversation) plus a job at its `due_at`.
Running it sends the step (or records why not) and schedules the next one. Any message from the
lead cancels what is pending ('lead replied'); the next reply of ours starts the cadence again
from its first step, counted from that new message.

Exactly once: the job locks its row (SELECT ... FOR UPDATE), checks it is still 'scheduled' and
due, and stores the outbound message and the row's new status in ONE transaction. A second
delivery of the job waits for the lock, then finds the step done; a worker that dies mid-step
rolls everything back and the next delivery does it again. Time comes from Python's clock
(`_now()`), never the database's, so the rules can be tested by travelling in time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from db.models import (
    Agent,
    AgentMode,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Followup,
    FollowupStatus,
    Message,
)
from db.tenancy import tenant_session
from runtime.agent import hours as business
from runtime.agent.settings import AgentSettings, BusinessHours, FollowupStep, conversation_agent_settings
from runtime.channels.base import MessageKind, Template
from runtime.channels.registry import adapter_class
from runtime.jobs import Lane, job
from runtime.jobs.names import FOLLOWUP_STEP as RUN_JOB
from runtime.jobs.names import SWEEP_FOLLOWUPS

from .engine import followup_queue

log = logging.getLogger(__name__)

DUE_TOLERANCE = timedelta(seconds=2)  # a delivery this early still counts as on time


def _now() -> datetime:
    return datetime.now(UTC)


# --- scheduling ---------------------------------------------------------------------------------


def _agent_settings(session: Session, conversation: Conversation) -> tuple[Agent | None, AgentSettings]:
    return conversation_agent_settings(session, conversation)


_INSERT = text("""
INSERT INTO followup (id, workspace_id, conversation_id, agent_id, channel_id, step, silence_since, due_at,
                      status, idempotency_key, attempts, details, created_at, updated_at)
VALUES (:id, :ws, :c, :agent, :channel, :step, :since, :due, 'scheduled', :key, 0, '{}'::jsonb, now(), now())
ON CONFLICT DO NOTHING
RETURNING id
""")
# A step being run holds its row (a nudge may take the model seconds): a seller's takeover or
# close does not wait for it; the step re-checks the conversation before sending (_Step._send).
_CANCEL = text("""
UPDATE followup SET status = 'cancelled', reason = :reason, updated_at = now()
WHERE id IN (
  SELECT id FROM followup WHERE conversation_id = :c AND status = 'scheduled' FOR UPDATE SKIP LOCKED
)
RETURNING id
""")
_CANCEL_OLDER = text("""
UPDATE followup SET status = 'cancelled', reason = 'lead replied', updated_at = now()
WHERE conversation_id = :c AND status = 'scheduled' AND silence_since < :since
""")


def _schedule(
    session: Session, conversation: Conversation, agent_id: uuid.UUID | None, step: int, since: datetime, due: datetime
) -> uuid.UUID | None:
    """Insert the step's row and its job (in the caller's transaction); None if already there."""
    key = f"{conversation.id}:{since.astimezone(UTC).isoformat()}:{step}"
    row_id = session.execute(
        _INSERT,
        {
            "id": uuid.uuid4(),
            "ws": conversation.workspace_id,
            "c": conversation.id,
            "agent": agent_id,
            "channel": conversation.channel_id,
            "step": step,
            "since": since,
            "due": due,
            "key": key,
        },
    ).scalar_one_or_none()
    if row_id is not None:
        _enqueue(session, conversation.workspace_id, row_id, due)
    return row_id


def _enqueue(session: Session, workspace_id: uuid.UUID, row_id: uuid.UUID, due: datetime) -> None:
    followup_queue().enqueue_in(session, RUN_JOB, {"workspace_id": workspace_id, "followup_id": row_id}, run_at=due)


def schedule_after_outbound(session: Session, conversation: Conversation, message: Message) -> uuid.UUID | None:
    """Called for every outbound message we queue: after a reply of the agent or a seller, start
    the cadence (its first step still ahead) unless one is already pending for this silence."""
    if message.details.get("followup_id") or message.author not in (Author.agent, Author.seller):
        return None
    if conversation.status != ConversationStatus.open or conversation.mode_override == AgentMode.off:
        return None
    agent, settings = _agent_settings(session, conversation)
    cadence = settings.followups
    if agent is None or agent.mode == AgentMode.off or not cadence.enabled or not cadence.steps:
        return None
    now = _now()
    since = conversation.last_inbound_at or now
    session.execute(_CANCEL_OLDER, {"c": conversation.id, "since": since})
    for i, step in enumerate(cadence.steps):
        due = since + timedelta(seconds=step.delay_seconds)
        if due > now:
            return _schedule(session, conversation, agent.id, i, since, due)
    return None


def cancel_pending(session: Session, conversation_id: uuid.UUID, reason: str) -> int:
    """Cancel the conversation's pending step (human takeover, conversation closed...)."""
    return len(session.execute(_CANCEL, {"c": conversation_id, "reason": reason[:300]}).all())


# SKIP LOCKED: a step locked right now is being run (its model may be writing a nudge for
# seconds); the lead's message must not wait for it. That step re-reads the conversation after
# writing and cancels itself when the lead wrote meanwhile (_Step._send).
_LEAD_REPLIED = """
UPDATE followup SET
  status = CASE WHEN status = 'scheduled' THEN 'cancelled' ELSE status END,
  reason = CASE WHEN status = 'scheduled' THEN 'lead replied' ELSE reason END,
  replied_at = CASE WHEN status = 'sent' THEN now() ELSE replied_at END,
  updated_at = now()
WHERE id IN (
  SELECT id FROM followup
  WHERE conversation_id = ANY(%s) AND (status = 'scheduled' OR (status = 'sent' AND replied_at IS NULL))
  FOR UPDATE SKIP LOCKED
)
"""


def on_lead_messages(connection: Any, conversations: dict[uuid.UUID, set[uuid.UUID]]) -> None:
    """The ingest hook (runtime.pipeline.inbound), on its psycopg connection and in its transaction:
    new lead messages cancel the pending steps of their conversations and mark the steps sent
    before them as answered (the dashboard's recoveries). `conversations`: workspace -> ids."""
    with connection.cursor() as cur:
        for workspace_id, ids in conversations.items():
            cur.execute("SELECT set_config('app.workspace_id', %s, true)", (str(workspace_id),))
            cur.execute(_LEAD_REPLIED, (list(ids),))


# --- running one step -----------------------------------------------------------------------


def run_step(workspace_id: uuid.UUID, followup_id: uuid.UUID) -> str:
    """Send (or skip, defer, cancel) one scheduled step, exactly once. Returns what happened."""
    now = _now()
    with tenant_session(workspace_id) as s:
        row = s.exec(select(Followup).where(Followup.id == followup_id).with_for_update()).first()
        if row is None:
            return "missing"
        if row.status != FollowupStatus.scheduled:
            return f"already {row.status.value}"  # a second delivery: the first one did it
        if row.due_at > now + DUE_TOLERANCE:
            # Deferred meanwhile (a later job exists), or this delivery came early: make sure a job
            # waits for the due time either way (a duplicate one finds the step done).
            _enqueue(s, workspace_id, row.id, row.due_at)
            s.commit()
            return "not due"
        row.attempts += 1
        outcome = _Step(s, row, now).run()
        row.updated_at = _now()
        s.add(row)
        s.commit()
    log.info("followup %s step %d: %s", followup_id, row.step, outcome)
    return outcome


class _Step:
    def __init__(self, session: Session, row: Followup, now: datetime) -> None:
        self.s, self.row, self.now = session, row, now
        self.conversation = session.get(Conversation, row.conversation_id)
        self.contact = session.get(Contact, self.conversation.contact_id)
        self.channel = session.get(Channel, self.conversation.channel_id) if self.conversation.channel_id else None
        self.agent, self.settings = _agent_settings(session, self.conversation)
        self.cadence = self.settings.followups

    # outcomes
    def _end(self, status: FollowupStatus, reason: str | None) -> str:
        self.row.status, self.row.reason = status, (reason or None) and reason[:300]
        return f"{status.value}: {reason}" if reason else status.value

    def _skip(self, reason: str) -> str:
        outcome = self._end(FollowupStatus.skipped, reason)
        self._schedule_next()
        return outcome

    def _defer(self, until: datetime, reason: str) -> str:
        until = until.astimezone(UTC)
        deferrals = list(self.row.details.get("deferred", []))[-9:]
        deferrals.append({"at": self.now.isoformat(), "until": until.isoformat(), "reason": reason})
        self.row.details = {**self.row.details, "deferred": deferrals}
        self.row.due_at = until
        _enqueue(self.s, self.row.workspace_id, self.row.id, until)
        return f"deferred: {reason}"

    def _schedule_next(self) -> None:
        nxt = self.row.step + 1
        if not self.cadence.enabled or nxt >= len(self.cadence.steps):
            return
        step, prev = self.cadence.steps[nxt], self.cadence.steps[self.row.step]
        due = self.row.silence_since + timedelta(seconds=step.delay_seconds)
        if due <= self.now:  # this step went late (deferred): keep the cadence's spacing
            due = self.now + timedelta(seconds=step.delay_seconds - prev.delay_seconds)
        _schedule(self.s, self.conversation, self.row.agent_id, nxt, self.row.silence_since, due)

    def run(self) -> str:
        why = self._cancel_reason()
        if why:
            return self._end(FollowupStatus.cancelled, why)
        step = self.cadence.steps[self.row.step]
        stage = (self.contact.stage or "").strip().lower()
        if step.stages and stage not in {x.lower() for x in step.stages}:
            return self._skip(f"lead stage {stage!r} is not among this step's stages")
        when = allowed_time(self.settings.business_hours, step, self.now)
        if when is None:
            return self._skip("no allowed time (business hours, weekends, holidays) within a year")
        if when > self.now + DUE_TOLERANCE:
            return self._defer(when, "outside the step's allowed time (business hours, weekend or holiday)")
        has_window = adapter_class(self.channel.provider).has_service_window
        if not has_window:
            limited = self._unofficial_limits()
            if limited is not None:
                return self._defer(*limited)
        return self._send(step, has_window)

    def _cancel_reason(self) -> str | None:
        c, row = self.conversation, self.row
        if c.last_inbound_at is not None and c.last_inbound_at > row.silence_since:
            return "lead replied"
        if self.contact.opted_out_at is not None:
            return "lead opted out"
        if c.status != ConversationStatus.open:
            return "conversation closed"
        if c.mode_override == AgentMode.off:
            return "human takeover"
        if c.handoff_requested_at is not None:
            return "waiting for a human"
        if self.agent is None or self.agent.mode == AgentMode.off:
            return "agent off"
        if not self.cadence.enabled or row.step >= len(self.cadence.steps):
            return "cadence disabled or changed"
        if self.channel is None or not self.channel.is_active:
            return "channel inactive"
        stage = (self.contact.stage or "").strip().lower()
        if stage and stage in {x.lower() for x in self.cadence.stop_stages}:
            return f"lead stage {stage!r} stops the cadence"
        return None

    def _unofficial_limits(self) -> tuple[datetime, str] | None:
        """Evolution / Z-API: a daily cap per channel and a minimum spacing (ban avoidance)."""
        cadence, channel = self.cadence, self.channel
        self.s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"followup:{channel.id}"})
        hours = self.settings.business_hours
        local = business.local_time(hours, self.now)
        day_start = datetime.combine(local.date(), time(0), local.tzinfo)
        spacing = timedelta(seconds=cadence.min_spacing_seconds)
        sent_today, last = self.s.execute(
            text(
                "SELECT count(*) FILTER (WHERE sent_at >= :day), max(sent_at) FROM followup "
                "WHERE channel_id = :ch AND status = 'sent' AND sent_at >= :since"
            ),
            {"day": day_start, "ch": channel.id, "since": min(day_start, self.now - spacing)},
        ).one()
        if sent_today >= cadence.daily_cap_per_channel:
            tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
            return tomorrow, f"daily cap of {cadence.daily_cap_per_channel} follow-ups reached on this channel"
        if last is not None and self.now - last < spacing:
            return last + spacing, f"spacing of {cadence.min_spacing_seconds}s between follow-ups on this channel"
        return None

    def _send(self, step: FollowupStep, has_window: bool) -> str:
        from runtime.pipeline.outbound import ChannelUnavailable, OutsideServiceWindow, queue_message, window_open

        name = (self.contact.name or "").split(" ")[0] if self.contact.name else ""
        use_template = step.content == "template" or (has_window and not window_open(self.conversation, self.now))
        kind, body, template, content = MessageKind.text, "", None, step.content
        if use_template:
            if not step.template_name.strip():
                return self._skip("outside the 24-hour window and the step has no approved template")
            variables = [_fill(v, name) for v in step.template_variables]
            template = Template(name=step.template_name.strip(), language=step.template_language, variables=variables)
            kind, content = MessageKind.template, "template"
        elif step.content == "llm":
            body, error = _llm_nudge(self.s, self.agent, self.settings, self.conversation, self.contact, step)
            # The model took a while: the lead may have written (or a seller taken over) meanwhile,
            # committed without waiting for this step's lock (_LEAD_REPLIED skips locked rows).
            self.s.refresh(self.conversation)
            self.s.refresh(self.contact)
            why = self._cancel_reason()
            if why:
                return self._end(FollowupStatus.cancelled, why)
            if body is None:
                return self._skip(f"LLM nudge failed: {error}")
        else:
            body = _fill(step.text, name)
        try:
            message = queue_message(
                self.s,
                self.conversation,
                kind=kind,
                text=body,
                template=template,
                details={
                    "followup_id": str(self.row.id),
                    "followup_step": self.row.step,
                    "idempotency_key": self.row.idempotency_key,
                },
                author=Author.agent,
            )
        except OutsideServiceWindow:
            return self._skip("outside the 24-hour window")
        except ChannelUnavailable:
            return self._end(FollowupStatus.cancelled, "channel inactive")
        self.row.message_id, self.row.sent_at = message.id, self.now
        self.row.details = {**self.row.details, "content": content}
        outcome = self._end(FollowupStatus.sent, None)
        self._schedule_next()
        return outcome


def _fill(value: str, name: str) -> str:
    return value.replace("{nome}", name or "").replace("{name}", name or "").strip()


def allowed_time(hours: BusinessHours, step: FollowupStep, at: datetime) -> datetime | None:
    """The earliest moment >= `at` when the step may go out: business hours, weekends and
    holidays (the agent's closed dates) as the step asks. None if none within about a year."""
    t = at.astimezone(UTC)
    for _ in range(800):
        local = business.local_time(hours, t)
        day_after = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo).astimezone(UTC)
        if step.skip_weekends and local.weekday() >= 5:
            t = day_after
            continue
        if step.skip_holidays and business.is_closed_date(hours, local.date()):
            t = day_after
            continue
        if step.business_hours_only:
            opening = business.next_opening(hours, t)
            if opening is None:
                return None
            opening = opening.astimezone(UTC)
            if opening > t:
                t = opening
                continue
        return t
    return None


def _llm_nudge(
    session: Session,
    agent: Agent,
    settings: AgentSettings,
    conversation: Conversation,
    contact: Contact,
    step: FollowupStep,
) -> tuple[str | None, str | None]:
    """A short nudge written by the agent's model from the conversation (and the knowledge base)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from runtime.agent.llm import (
        LLMUnavailable,
        build_model,  # here: langchain loads only when a nudge is written
        invoke_with_tools,
    )

    model, why = build_model(agent, settings)
    if model is None:
        return None, why or "the agent has no language model (provider none)"
    recent = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(12)
    ).all()
    lines = [f"{'Cliente' if m.direction == 'inbound' else 'Você'}: {m.text}" for m in reversed(recent) if m.text]
    last_lead = next((m.text for m in recent if m.direction == "inbound" and m.text), "")
    knowledge = ""
    if last_lead:
        try:
            from runtime.knowledge.search import search

            hits = search(session, last_lead, k=3, collection=settings.knowledge_collection)
            knowledge = "\n".join(f"- {h.text[:400]}" for h in hits)
        except Exception:  # knowledge is a help here, never a reason to stay silent
            log.warning("followup: knowledge search failed", exc_info=True)
    system = (
        f"{settings.persona}\n\nVocê escreve UMA mensagem curta de follow-up no WhatsApp (no máximo 2 frases) "
        f"para retomar a conversa com {contact.name or 'o cliente'}, que parou de responder. Idioma: "
        f"{settings.language}. Tom: {settings.tone}. Não invente preços, datas ou condições. "
        f"Responda apenas com a mensagem.\n"
        + (f"Instruções da empresa para esta etapa: {step.text}\n" if step.text.strip() else "")
        + (f"Informações da empresa que podem ajudar:\n{knowledge}\n" if knowledge else "")
    )
    prompt = [SystemMessage(content=system), HumanMessage(content="Conversa até agora:\n" + "\n".join(lines))]
    try:
        result = invoke_with_tools(
            model, prompt, timeout_seconds=settings.llm.timeout_seconds, max_retries=settings.llm.max_retries
        )
    except LLMUnavailable as exc:
        return None, str(exc)[:200]
    content = result.message.content
    if isinstance(content, list):
        content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    body = (content or "").strip()
    if not body:
        return None, "the model returned an empty message"
    return body[: settings.max_reply_chars], None


@job(RUN_JOB, lane=Lane.interactive)
def run_step_job(payload: dict) -> None:
    run_step(uuid.UUID(str(payload["workspace_id"])), uuid.UUID(str(payload["followup_id"])))


SWEEP_AFTER = timedelta(minutes=2)  # a step still 'scheduled' this long after its due time lost its job
SWEEP_BATCH = 500


@job(SWEEP_FOLLOWUPS)
def sweep_overdue(payload: dict) -> None:
    """Re-arm steps whose job or Cloud Task was lost (e.g. creating the task failed after the
    commit). Run periodically by the worker; a duplicate job is harmless (run_step is exactly-once)."""
    with tenant_session(None) as s:  # all workspaces: through a SECURITY DEFINER function (ids only)
        rows = s.execute(
            text("SELECT workspace_id, id FROM app_overdue_followups(CAST(:older AS interval), :n)"),
            {"older": f"{int(SWEEP_AFTER.total_seconds())} seconds", "n": SWEEP_BATCH},
        ).all()
    for workspace_id, followup_id in rows:
        with tenant_session(workspace_id) as s:
            _enqueue(s, workspace_id, followup_id, _now())
            s.commit()
    if rows:
        log.warning("followups.sweep: re-armed %d overdue step(s)", len(rows))
