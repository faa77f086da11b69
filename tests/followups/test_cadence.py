"""The cadence's rules, by travelling in time (time-machine): delays, the 24-hour window,
business hours / weekends / holidays, cancellation by a reply, takeover, opt-out and stages,
unofficial providers' caps, LLM nudges, duplicate deliveries and a worker lost mid-step.

The steps are run by calling the job's function (what the queue or Cloud Tasks calls); the
engines themselves are exercised in test_engines.py."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from db.engine import admin_engine, app_engine
from db.models import Author, Conversation, Role
from db.tenancy import tenant_session
from runtime import conversations
from runtime.access import Principal, UserError
from runtime.agent.llm import use_chat_model
from runtime.agent.settings import BusinessHours, FollowupStep
from runtime.followups import labels, stats
from runtime.followups.service import allowed_time, run_step
from runtime.panel import inbox
from tests.fakes.chat_model import ScriptedChatModel

from .conftest import Lead, step

H, D = 3600, 86400


@pytest.fixture(autouse=True, scope="module")
def _drop_queued_jobs(pg):
    """No worker runs here: drop the jobs these tests leave so later modules' workers skip them."""
    yield
    with app_engine().begin() as conn:
        conn.execute(text("DELETE FROM pgqueuer WHERE status = 'queued'"))


def run_at(lead: Lead, at: datetime) -> str:
    pending = lead.pending()
    assert pending is not None, "no pending step"
    with time_machine.travel(at, tick=False):
        return run_step(lead.workspace_id, pending.id)


def test_silent_lead_gets_each_step_at_its_delay_and_a_template_outside_the_window(make_lead):
    lead = make_lead(
        [
            step(1, "hours", "Oi {nome}, ainda tem interesse?"),
            step(23, "hours", "Posso te ajudar em algo mais?"),
            step(3, "days", "Seguimos à disposição", template_name="retomada", template_variables=["{nome}"]),
        ]
    )
    lead.writes("Quanto custa o plano?")
    lead.we_reply("O plano custa R$ 99.")
    first = lead.pending()
    assert first.step == 0 and first.due_at == first.silence_since + timedelta(hours=1)

    assert run_at(lead, first.due_at - timedelta(minutes=1)) == "not due"
    assert lead.followup_messages() == []

    assert run_at(lead, first.due_at + timedelta(seconds=1)) == "sent"
    [m] = lead.followup_messages()
    assert (m.text, m.kind, m.author) == ("Oi Ana, ainda tem interesse?", "text", Author.agent)
    assert run_step(lead.workspace_id, first.id) == "already sent"  # the job delivered twice
    assert len(lead.followup_messages()) == 1

    second = lead.pending()
    assert second.step == 1 and second.due_at == first.silence_since + timedelta(hours=23)
    assert run_at(lead, second.due_at) == "sent"  # 23 h: still inside the window, free text

    third = lead.pending()
    assert third.due_at == first.silence_since + timedelta(days=3)
    assert run_at(lead, third.due_at) == "sent"
    sent = lead.followup_messages()
    assert [m.kind for m in sent] == ["text", "text", "template"]
    assert sent[2].details["template"] == {"name": "retomada", "language": "pt_BR", "variables": ["Ana"]}
    assert lead.pending() is None
    assert [f.status for f in lead.followups()] == ["sent", "sent", "sent"]


def test_outside_the_window_a_step_without_template_is_skipped_with_its_reason(make_lead):
    lead = make_lead([step(25, "hours", "Oi?"), step(2, "days", "", content="template", template_name="volta")])
    lead.writes()
    lead.we_reply()
    first = lead.pending()
    assert run_at(lead, first.due_at) == "skipped: outside the 24-hour window and the step has no approved template"
    nxt = lead.pending()
    assert nxt.step == 1
    assert run_at(lead, nxt.due_at) == "sent"
    assert [m.kind for m in lead.followup_messages()] == ["template"]
    rows = lead.followups()
    assert next((f.status, f.reason) for f in rows) == (
        "skipped",
        "outside the 24-hour window and the step has no approved template",
    )


def test_a_reply_cancels_the_pending_step_and_a_new_silence_starts_again(make_lead):
    lead = make_lead([step(1, "hours", "Oi?"), step(2, "hours", "Ainda aí?")])
    lead.writes()
    lead.we_reply()
    first = lead.pending()
    start = first.due_at - timedelta(hours=1)
    assert run_at(lead, first.due_at) == "sent"
    assert lead.pending().step == 1

    lead.writes("Oi, desculpa a demora!")
    rows = lead.followups()
    assert [(f.step, f.status, f.reason) for f in rows] == [(0, "sent", None), (1, "cancelled", "lead replied")]
    assert rows[0].replied_at is not None  # a recovery

    lead.we_reply("Sem problema! Vamos seguir?")
    again = lead.pending()
    assert again.step == 0 and again.silence_since > first.silence_since
    assert again.due_at == again.silence_since + timedelta(hours=1)

    with tenant_session(lead.workspace_id) as s:
        summary = stats.recoveries(s, start - timedelta(days=1), start + timedelta(days=2))
        assert (
            stats.recoveries(s, start - timedelta(days=1), start + timedelta(days=2), agent_id=lead.agent_id) == summary
        )
    assert summary["recovered"] == 1 and summary["sent"] == 1
    assert summary["by_status"] == {"cancelled": 1, "scheduled": 1, "sent": 1}


def test_a_seller_reply_also_starts_the_cadence_but_a_takeover_cancels_it(make_lead):
    lead = make_lead([step(1, "hours", "Oi?")])
    lead.writes()
    lead.we_reply("Aqui é a Carla, vendedora.", author=Author.seller)
    assert lead.pending() is not None
    with tenant_session(lead.workspace_id) as s:
        conversations.take_over(s, s.get(Conversation, lead.conversation_id), None)
        s.commit()
    assert lead.pending() is None
    assert lead.followups()[0].reason == "human takeover"
    lead.we_reply("Continuo por aqui.", author=Author.seller)  # a human is in charge: no cadence
    assert lead.pending() is None


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "UPDATE contact SET opted_out_at = now() WHERE id = (SELECT contact_id FROM conversation WHERE id = :c)",
            "lead opted out",
        ),
        (
            "UPDATE contact SET stage = 'qualificado' WHERE id = (SELECT contact_id FROM conversation WHERE id = :c)",
            "lead stage 'qualificado' stops the cadence",
        ),
        ("UPDATE conversation SET status = 'closed' WHERE id = :c", "conversation closed"),
        ("UPDATE conversation SET handoff_requested_at = now() WHERE id = :c", "waiting for a human"),
    ],
)
def test_opt_out_stage_close_and_handoff_cancel_at_run_time(make_lead, sql, reason):
    lead = make_lead([step(1, "hours", "Oi?"), step(2, "hours", "Oi??")])
    lead.writes()
    lead.we_reply()
    due = lead.pending().due_at
    lead.update(sql)
    assert run_at(lead, due) == f"cancelled: {reason}"
    assert lead.followup_messages() == [] and lead.pending() is None


def test_a_step_for_other_stages_is_skipped_and_the_next_one_goes(make_lead):
    lead = make_lead([step(1, "hours", "Só p/ propostas", stages=["proposta"]), step(2, "hours", "Para todos")])
    lead.writes()
    lead.we_reply()
    assert run_at(lead, lead.pending().due_at).startswith("skipped: lead stage 'new'")
    assert run_at(lead, lead.pending().due_at) == "sent"
    assert [m.text for m in lead.followup_messages()] == ["Para todos"]


WEEKDAYS_9_18 = {
    "timezone": "America/Sao_Paulo",
    "week": {d: [{"open": "09:00", "close": "18:00"}] for d in range(5)},
    "closed_dates": ["2026-12-07"],
}


def test_business_hours_defer_a_friday_evening_step_to_the_next_opening(make_lead):
    lead = make_lead(
        [step(2, "hours", "Oi?", business_hours_only=True, skip_holidays=True, template_name="retomada")],
        hours=WEEKDAYS_9_18,
    )
    lead.writes()
    lead.we_reply()
    # The lead last wrote on Friday 4 Dec 2026, 17:00 in São Paulo (20:00 UTC).
    friday = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    lead.update("UPDATE conversation SET last_inbound_at = :t WHERE id = :c", t=friday)
    lead.update(
        "UPDATE followup SET silence_since = :t, due_at = :d WHERE conversation_id = :c",
        t=friday,
        d=friday + timedelta(hours=2),
    )
    assert run_at(lead, friday + timedelta(hours=2)).startswith("deferred: outside the step's allowed time")
    pending = lead.pending()
    # Monday 7 Dec is a holiday: Tuesday 8 Dec, 9:00 in São Paulo = 12:00 UTC.
    assert pending.due_at == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert pending.details["deferred"][0]["until"] == "2026-12-08T12:00:00+00:00"
    assert run_at(lead, pending.due_at) == "sent"  # > 24 h after the lead's message: the template
    assert [m.kind for m in lead.followup_messages()] == ["template"]


def test_allowed_time_for_weekends_and_holidays():
    hours = BusinessHours.model_validate(WEEKDAYS_9_18)
    saturday = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
    weekends = FollowupStep(delay=1, text="x", skip_weekends=True)
    assert allowed_time(hours, weekends, saturday) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # Mon 00:00 BRT
    both = FollowupStep(delay=1, text="x", skip_weekends=True, skip_holidays=True)
    assert allowed_time(hours, both, saturday) == datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Tue: Mon is a holiday
    plain = FollowupStep(delay=1, text="x")
    assert allowed_time(hours, plain, saturday) == saturday
    open_hours = FollowupStep(delay=1, text="x", business_hours_only=True)
    tuesday_10 = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
    assert allowed_time(hours, open_hours, tuesday_10) == tuesday_10
    never = BusinessHours.model_validate(
        {
            "week": {0: [{"open": "09:00", "close": "10:00"}]},
            "closed_dates": [
                f"{m:02d}-{d:02d}"
                for m in range(1, 13)
                for d in range(1, 32)
                if not (m == 2 and d > 29) and not (m in (4, 6, 9, 11) and d > 30)
            ],
        }
    )
    assert allowed_time(never, open_hours, tuesday_10) is None


def test_unofficial_provider_has_no_window_but_a_daily_cap_and_spacing(make_lead):
    lead = make_lead(
        [step(30, "hours", "Oi de novo!")], provider="evolution", daily_cap_per_channel=1, min_spacing_seconds=0
    )
    other = Lead(lead.workspace_id, lead.channel, lead.agent_id)
    for who in (lead, other):
        who.writes()
        who.we_reply()
    due = lead.pending().due_at
    assert run_at(lead, due) == "sent"  # 30 h later, free text: Evolution has no 24-hour window
    outcome = run_at(other, due + timedelta(seconds=5))
    assert outcome == "deferred: daily cap of 1 follow-ups reached on this channel"
    assert other.pending().due_at > due + timedelta(seconds=5)
    assert other.followup_messages() == []


def test_unofficial_provider_spacing_between_follow_ups(make_lead):
    lead = make_lead([step(1, "hours", "Oi!")], provider="evolution", min_spacing_seconds=600)
    other = Lead(lead.workspace_id, lead.channel, lead.agent_id)
    for who in (lead, other):
        who.writes()
        who.we_reply()
    due = max(lead.pending().due_at, other.pending().due_at)
    assert run_at(lead, due) == "sent"
    assert run_at(other, due + timedelta(seconds=10)).startswith("deferred: spacing of 600s")
    assert other.pending().due_at == due + timedelta(seconds=600)
    assert run_at(other, due + timedelta(seconds=600)) == "sent"


@pytest.fixture
def scripted():
    model = ScriptedChatModel(replies=[])
    use_chat_model(lambda agent, settings: model)
    yield model
    use_chat_model(None)


def test_llm_nudge_is_written_from_the_conversation(make_lead, scripted):
    lead = make_lead([step(1, "hours", "Lembre da promoção de dezembro", content="llm")])
    lead.writes("Vocês entregam em Campinas?")
    lead.we_reply("Entregamos sim!")
    scripted.add("Ana, conseguiu ver a promoção de dezembro?")
    assert run_at(lead, lead.pending().due_at) == "sent"
    assert [m.text for m in lead.followup_messages()] == ["Ana, conseguiu ver a promoção de dezembro?"]
    prompt = scripted.calls[0]
    assert "promoção de dezembro" in prompt[0].content and "Campinas" in prompt[1].content


def test_llm_failure_skips_the_step_with_a_reason_and_goes_on(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm"), step(2, "hours", "Oi?")])
    lead.writes()
    lead.we_reply()
    scripted.raise_next(ValueError("modelo fora do ar"))
    outcome = run_at(lead, lead.pending().due_at)
    assert outcome.startswith("skipped: LLM nudge failed")
    assert lead.pending().step == 1
    assert lead.followup_messages() == []


def test_duplicate_deliveries_at_once_send_one_message(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm")])
    lead.writes()
    lead.we_reply()
    pending = lead.pending()
    scripted.stall_next(1.0, "Oi Ana, tudo bem?")
    outcomes: list[str] = []

    def deliver() -> None:
        with time_machine.travel(pending.due_at, tick=True):
            outcomes.append(run_step(lead.workspace_id, pending.id))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["already sent", "already sent", "sent"]
    assert [m.text for m in lead.followup_messages()] == ["Oi Ana, tudo bem?"]


def _run_in_thread(lead, pending) -> tuple[threading.Thread, list[str]]:
    outcomes: list[str] = []

    def deliver() -> None:
        with time_machine.travel(pending.due_at, tick=True):
            outcomes.append(run_step(lead.workspace_id, pending.id))

    thread = threading.Thread(target=deliver)
    thread.start()
    return thread, outcomes


def _wait_for_the_model(scripted, calls: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(scripted.calls) < calls and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(scripted.calls) >= calls, "the model was never asked"


def test_a_lead_writing_while_the_nudge_is_written_is_not_kept_waiting_and_stops_it(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm"), step(2, "hours", "Oi?")])
    lead.writes("Quanto custa a instalação?")
    lead.we_reply("Depende do modelo!")
    pending = lead.pending()
    scripted.stall_next(3.0, "Ana, ainda quer o orçamento?")
    thread, outcomes = _run_in_thread(lead, pending)
    _wait_for_the_model(scripted)
    lead.writes("Voltei! Quero sim")  # the webhook's ingest: it must not wait for the step's lock
    still_writing = thread.is_alive()
    thread.join(timeout=30)
    assert still_writing, "the lead's message waited for the model to finish the nudge"
    assert outcomes == ["cancelled: lead replied"]
    assert lead.followup_messages() == []
    assert lead.pending() is None  # the cadence starts again only after our next reply


def test_a_takeover_while_the_nudge_is_written_does_not_wait_and_stops_it(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm")])
    lead.writes()
    lead.we_reply()
    pending = lead.pending()
    scripted.stall_next(3.0, "Oi Ana?")
    thread, outcomes = _run_in_thread(lead, pending)
    _wait_for_the_model(scripted)
    with tenant_session(lead.workspace_id) as s:
        conversations.take_over(s, s.get(Conversation, lead.conversation_id), None)
        s.commit()
    still_writing = thread.is_alive()
    thread.join(timeout=30)
    assert still_writing, "the takeover waited for the model to finish the nudge"
    assert outcomes == ["cancelled: human takeover"]
    assert lead.followup_messages() == []


def test_a_seller_writing_while_the_nudge_is_written_does_not_wait(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm")])
    lead.writes()
    lead.we_reply()
    pending = lead.pending()
    scripted.stall_next(3.0, "Oi Ana, posso ajudar em algo mais?")
    thread, outcomes = _run_in_thread(lead, pending)
    _wait_for_the_model(scripted)
    lead.we_reply("Ana, separei as fotos do modelo pra você.", author=Author.seller)
    still_writing = thread.is_alive()
    thread.join(timeout=30)
    assert still_writing, "the seller's message waited for the model to finish the nudge"
    # the same silence: the cadence goes on (a seller's message does not restart it)
    assert outcomes == ["sent"]
    assert [m.text for m in lead.followup_messages()] == ["Oi Ana, posso ajudar em algo mais?"]


def test_a_worker_lost_mid_step_leaves_nothing_and_the_redelivery_sends_once(make_lead, scripted):
    lead = make_lead([step(1, "hours", "", content="llm")])
    lead.writes()
    lead.we_reply()
    pending = lead.pending()
    scripted.stall_next(3.0, "primeira tentativa")
    scripted.add("Oi Ana, ainda tem interesse?")
    errors: list[BaseException] = []

    def doomed() -> None:
        try:
            with time_machine.travel(pending.due_at, tick=True):
                run_step(lead.workspace_id, pending.id)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=doomed)
    worker.start()
    # The worker holds the step's lock while the model writes: cut its connection (the worker dies).
    pid = None
    deadline = time.monotonic() + 10
    while pid is None and time.monotonic() < deadline:
        with admin_engine().connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'followup' AND l.mode = 'RowShareLock' LIMIT 1"
                )
            ).scalar()
        time.sleep(0.05)
    assert pid is not None
    with admin_engine().connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    worker.join(timeout=30)
    assert errors and isinstance(errors[0], OperationalError)
    assert lead.followup_messages() == [] and lead.pending().id == pending.id

    assert run_at(lead, pending.due_at) == "sent"
    assert [m.text for m in lead.followup_messages()] == ["Oi Ana, ainda tem interesse?"]
    assert run_step(lead.workspace_id, pending.id) == "already sent"


def _owner_of(lead: Lead) -> Principal:
    with tenant_session(lead.workspace_id) as s:
        user_id = s.execute(text("SELECT user_id FROM membership WHERE role = 'owner'")).scalar_one()
    return Principal(user_id, lead.workspace_id, Role.owner)


def test_the_inbox_shows_the_cadence_and_a_seller_can_stop_it(make_lead):
    lead = make_lead([step(1, "hours", "Oi {nome}, ainda tem interesse?"), step(1, "days", "", content="llm")])
    lead.writes()
    lead.we_reply()
    owner, cid = _owner_of(lead), str(lead.conversation_id)
    view = inbox.thread(owner, cid)["followup"]
    assert {k: view["pending"][k] for k in ("step", "of", "content")} == {"step": 1, "of": 2, "content": "texto"}
    assert view["history"] == []

    assert run_at(lead, lead.pending().due_at) == "sent"
    view = inbox.thread(owner, cid)["followup"]
    assert view["pending"]["step"] == 2 and view["pending"]["content"] == "mensagem escrita pela IA"
    assert [(h["step"], h["status_label"]) for h in view["history"]] == [(1, "Enviado")]

    inbox.cancel_followup(owner, cid)
    view = inbox.thread(owner, cid)["followup"]
    assert view["pending"] is None and lead.pending() is None
    latest = view["history"][0]
    assert (latest["step"], latest["status_label"]) == (2, "Cancelado")
    assert latest["reason"].startswith("cancelado por u-")
    with pytest.raises(UserError, match="Não há follow-up agendado"):
        inbox.cancel_followup(owner, cid)


def test_stored_reasons_read_in_portuguese():
    assert labels.describe_reason("lead replied") == "o lead respondeu"
    assert labels.describe_reason("lead stage 'won' stops the cadence") == "a etapa do lead (won) encerra a régua"
    assert labels.describe_reason("LLM nudge failed: timeout") == "a IA não conseguiu escrever a mensagem (timeout)"
    assert labels.describe_reason("algo novo") == "algo novo" and labels.describe_reason(None) == ""
