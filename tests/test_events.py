"""Domain events on real PostgreSQL: the conversation service publishes what it did, in-transaction
subscribers commit or roll back with the cause, after-commit ones arrive through the job queue
(only when the cause committed), and the REST API and the panel give the same refusals."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from db.models import Contact, Conversation, Message, Role, utcnow
from db.tenancy import tenant_session
from runtime import conversations, wiring
from runtime.access import Principal, UserError
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from runtime.channels.service import create_channel
from runtime.events import (
    ConversationClosed,
    ConversationReleased,
    ConversationTakenOver,
    HandoffRequested,
    LeadStageChanged,
    LeadUpdated,
    OutboundQueued,
)
from runtime.panel import inbox

seen: list = []
delivered: list = []
arrived = threading.Event()


def record_in_transaction(tx, events) -> None:
    seen.extend(events)


def record_after_commit(event) -> None:
    delivered.append(event)
    arrived.set()


@pytest.fixture
def conversation(workspace):
    ws, _, _ = workspace
    with tenant_session(ws.workspace_id) as s:
        channel = create_channel(
            s,
            ws.workspace_id,
            provider="cloud_api",
            name="Loja",
            credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s", "verify_token": "v"},
            api_base_url="http://127.0.0.1:9",  # nothing is sent: no worker runs the sends here
        )
        contact = Contact(workspace_id=ws.workspace_id, phone=f"+55119{uuid.uuid4().int % 10**8:08d}", name="Ana")
        s.add(contact)
        s.flush()
        conv = Conversation(
            workspace_id=ws.workspace_id,
            contact_id=contact.id,
            channel_id=channel.id,
            last_inbound_at=utcnow() - timedelta(minutes=5),
        )
        s.add(conv)
        s.commit()
        return ws, conv.id, contact.id


@pytest.fixture
def recording(monkeypatch):
    """A subscriber of every event type, in the transaction, for this test only."""
    seen.clear()
    for event_type in (
        ConversationTakenOver,
        ConversationReleased,
        ConversationClosed,
        HandoffRequested,
        LeadStageChanged,
        LeadUpdated,
        OutboundQueued,
    ):
        existing = wiring.IN_TRANSACTION.get(event_type, ())
        monkeypatch.setitem(wiring.IN_TRANSACTION, event_type, (*existing, "tests.test_events:record_in_transaction"))
    return seen


def test_the_conversation_service_publishes_what_it_did(conversation, recording):
    ws, conv_id, contact_id = conversation
    owner = ws.user_id
    with tenant_session(ws.workspace_id) as s:
        conv = s.get(Conversation, conv_id)
        contact = s.get(Contact, contact_id)
        conversations.take_over(s, conv, owner)
        message = conversations.seller_reply(s, conv, "Oi Ana, tudo bem?", user_id=owner)
        conversations.release(s, conv)
        conversations.request_handoff(s, conv, "sem resposta", "vocês parcelam?")
        conversations.update_lead(s, contact, {"stage": "Proposta", "notes": "quer parcelar"}, conversation_id=conv.id)
        conversations.update_lead(s, contact, {"notes": "mesma etapa"}, conversation_id=conv.id)
        conversations.close(s, conv)
        s.commit()
    w = ws.workspace_id
    assert recording == [
        ConversationTakenOver(w, conv_id, owner),
        OutboundQueued(w, conv_id, message.id),
        ConversationReleased(w, conv_id),
        HandoffRequested(w, conv_id),
        LeadUpdated(w, contact_id, conv_id),
        LeadStageChanged(w, contact_id, conv_id),
        LeadUpdated(w, contact_id, conv_id),  # the stage did not change again: no second LeadStageChanged
        ConversationClosed(w, conv_id),
    ]
    with tenant_session(w) as s:
        assert s.get(Contact, contact_id).stage == "proposal"  # stored as the panel's key


def test_in_transaction_reactions_roll_back_with_their_cause(conversation, recording):
    """Learning a seller's answer is a reaction in the transaction: if the reply is rolled back,
    so is what was learned."""
    from db.models import LearnedAnswer

    ws, conv_id, _ = conversation
    with tenant_session(ws.workspace_id) as s:
        conv = s.get(Conversation, conv_id)
        conversations.request_handoff(s, conv, "sem resposta", "vocês parcelam?")
        s.commit()
    with tenant_session(ws.workspace_id) as s:
        conv = s.get(Conversation, conv_id)
        message = conversations.seller_reply(s, conv, "Parcelamos em até 10x.")
        assert "learned_answer_id" in message.details and conv.handoff_requested_at is None
        s.rollback()
    with tenant_session(ws.workspace_id) as s:
        assert s.exec(select(LearnedAnswer).where(LearnedAnswer.source_conversation_id == conv_id)).all() == []
        assert s.get(Conversation, conv_id).handoff_question == "vocês parcelam?"


def test_after_commit_subscribers_run_from_the_job_queue_only_when_the_cause_committed(
    conversation, worker, monkeypatch
):
    monkeypatch.setitem(wiring.AFTER_COMMIT, ConversationClosed, ("tests.test_events:record_after_commit",))
    delivered.clear()
    arrived.clear()
    ws, conv_id, _ = conversation
    with tenant_session(ws.workspace_id) as s:
        conversations.close(s, s.get(Conversation, conv_id))
        s.rollback()  # the cause did not happen: nothing may arrive
    with tenant_session(ws.workspace_id) as s:
        conv = s.get(Conversation, conv_id)
        conversations.close(s, conv)
        assert delivered == []  # not before the commit
        s.commit()
    assert arrived.wait(15)
    time.sleep(0.5)  # a delivery of the rolled-back close would have come by now too
    assert delivered == [ConversationClosed(ws.workspace_id, conv_id)]  # ids back as UUIDs, once


def test_a_closed_conversation_refuses_a_reply_the_same_way_in_the_panel_and_the_rest_api(conversation):
    ws, conv_id, contact_id = conversation
    with tenant_session(ws.workspace_id) as s:
        conversations.close(s, s.get(Conversation, conv_id))
        s.commit()
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    with pytest.raises(UserError) as panel:
        inbox.send_text(owner, str(conv_id), "Oi, ainda está aí?")
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as api:
        api.headers["Authorization"] = f"Bearer {key}"
        r = api.post(f"/api/v1/conversations/{conv_id}/messages", json={"text": "Oi, ainda está aí?"})
        assert r.status_code == 409
        assert r.json()["detail"] == str(panel.value) == conversations.CLOSED
        detail = api.get(f"/api/v1/conversations/{conv_id}").json()
        listed = api.get("/api/v1/conversations").json()
    lead = {"id": str(contact_id), "name": "Ana", "stage": "new"}
    assert {k: detail["lead"][k] for k in lead} == lead and detail["lead"]["phone"].startswith("+55119")
    assert [c["lead"]["id"] for c in listed] == [str(contact_id)]
    with tenant_session(ws.workspace_id) as s:  # neither queued anything
        assert s.exec(select(Message).where(Message.conversation_id == conv_id)).all() == []


def test_a_provider_status_callback_publishes_message_status_changed(conversation, monkeypatch):
    """Statuses are applied inside the ingest's PL/pgSQL function; it returns which messages moved
    so that the pipeline publishes MessageStatusChanged for exactly those (on its connection)."""
    from runtime.channels.base import DeliveryStatus, ParsedEvent, StatusUpdate
    from runtime.channels.service import ChannelSettings
    from runtime.events import MessageStatusChanged
    from runtime.pipeline.inbound import ChannelRef, ingest

    monkeypatch.setitem(wiring.IN_TRANSACTION, MessageStatusChanged, ("tests.test_events:record_in_transaction",))
    seen.clear()
    ws, conv_id, _ = conversation
    with tenant_session(ws.workspace_id) as s:
        conv = s.get(Conversation, conv_id)
        sent = Message(
            workspace_id=ws.workspace_id,
            conversation_id=conv_id,
            channel_id=conv.channel_id,
            direction="outbound",
            author="agent",
            text="Olá!",
            status="sent",
            provider_message_id="wamid.status-1",
        )
        s.add(sent)
        s.commit()
        ref = ChannelRef(conv.channel_id, ws.workspace_id, "cloud_api", ChannelSettings())
    status = StatusUpdate(provider_message_id="wamid.status-1", status=DeliveryStatus.delivered, timestamp=utcnow())
    unknown = StatusUpdate(provider_message_id="wamid.nao-existe", status=DeliveryStatus.read, timestamp=utcnow())
    assert ingest(ref, ParsedEvent(statuses=[status, unknown]), b"{}").statuses_applied == 1
    assert seen == [MessageStatusChanged(ws.workspace_id, sent.id)]
    assert ingest(ref, ParsedEvent(statuses=[status]), b"{}").statuses_applied == 0  # not backwards, not twice
    assert seen == [MessageStatusChanged(ws.workspace_id, sent.id)]
