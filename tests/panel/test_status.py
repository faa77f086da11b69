"""Status: database check, this workspace's job queue (depth, failures, oldest pending), channel
health and the LLM configuration, on the real database and the real pgqueuer worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from db.models import Channel, Contact, Conversation, ConversationTurn, Message, Role
from db.tenancy import tenant_session
from runtime.access import Forbidden, Principal
from runtime.agent.service import create_agent
from runtime.channels import service as channels
from runtime.jobs import get_queue, job
from runtime.panel import status as panel
from tests.conftest import wait_until


@job("test.status_probe")
def probe(payload: dict) -> None:
    raise RuntimeError("sonda falhou de propósito")


def owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def test_database_is_checked_with_a_real_query(workspace):
    status = panel.system_status(owner(workspace[0]))
    db = status["database"]
    assert db["ok"] is True and db["level"] == "ok"
    assert 0 < db["latency_ms"] < 500 and db["version"].startswith("PostgreSQL ")
    assert len(status["checked_time"]) == 8


def test_queue_depth_counts_this_workspaces_jobs_only(make_workspace):
    # No worker in this test (the module's worker starts with the next one): jobs stay queued.
    ws, other = make_workspace("Fila"), make_workspace("Outra")
    me = owner(ws)
    before = panel.system_status(me)["jobs"]
    assert (before["pending"], before["scheduled"], before["failed"]) == (0, 0, 0)
    assert before["oldest_pending"] == "—"

    get_queue().enqueue("test.status_probe", {"workspace_id": ws.workspace_id, "n": 1})
    get_queue().enqueue("test.status_probe", {"workspace_id": ws.workspace_id, "n": 2})
    get_queue().enqueue(
        "test.status_probe", {"workspace_id": ws.workspace_id}, run_at=datetime.now(UTC) + timedelta(hours=1)
    )
    get_queue().enqueue("test.status_probe", {"workspace_id": other.workspace_id})

    jobs = panel.system_status(me)["jobs"]
    assert (jobs["pending"], jobs["scheduled"]) == (2, 1)
    assert jobs["oldest_pending_seconds"] is not None and jobs["oldest_pending"].endswith("s")
    assert panel.system_status(owner(other))["jobs"]["pending"] == 1


def test_a_failed_job_shows_up_with_its_error(make_workspace, worker):
    ws, other = make_workspace("Falhas"), make_workspace("Vizinha")
    get_queue().enqueue("test.status_probe", {"workspace_id": ws.workspace_id})
    me = owner(ws)
    jobs = wait_until(lambda: (j := panel.system_status(me)["jobs"])["failed"] == 1 and j, timeout=15)
    assert jobs["level"] == "warn"
    assert jobs["recent_failures"][0]["job"] == "test.status_probe"
    assert jobs["recent_failures"][0]["error"] == "RuntimeError: sonda falhou de propósito"
    assert panel.system_status(owner(other))["jobs"]["failed"] == 0
    assert panel.system_status(me)["overall"] in ("warn", "error")


def test_channel_error_and_last_event_show(workspace):
    ws = workspace[0]
    me = owner(ws)
    assert panel.system_status(me)["channels"] == []
    assert panel.system_status(me)["channels_level"] == "warn"  # nothing connected yet
    with tenant_session(ws.workspace_id) as s:
        ch = channels.create_channel(
            s,
            ws.workspace_id,
            provider="zapi",
            name="Loja Z",
            credentials={"instance_id": "i", "token": "t", "client_token": "c"},
        )
        ch.last_event_at = datetime.now(UTC) - timedelta(minutes=7)
        s.commit()
        cid = ch.id
    row = panel.system_status(me)["channels"][0]
    assert (row["name"], row["status"], row["last_event_ago"], row["last_error"]) == (
        "Loja Z",
        "Conectado",
        "há 7 min",
        "",
    )

    with tenant_session(ws.workspace_id) as s:
        channels.mark_error(s, cid, "send failed: 401 unauthorized")
        s.commit()
    status = panel.system_status(me)
    assert status["channels"][0]["last_error"] == "send failed: 401 unauthorized"
    assert status["channels"][0]["status"] == "Com erro"
    assert status["channels_level"] == "error" and status["overall"] == "error"
    assert "credentials" not in status["channels"][0]


def test_llm_configuration_and_last_failure_without_calling_the_provider(workspace):
    ws = workspace[0]
    me = owner(ws)
    assert panel.system_status(me)["llm"]["agents"] == []
    with tenant_session(ws.workspace_id) as s:
        create_agent(s, ws.workspace_id, name="Sem chave", settings={"llm": {"provider": "gemini"}})
        create_agent(
            s,
            ws.workspace_id,
            name="Local",
            settings={"llm": {"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "qwen"}},
        )
        s.commit()
    llm = panel.system_status(me)["llm"]
    by_name = {a["name"]: a for a in llm["agents"]}
    assert (
        by_name["Sem chave"]["state"] == "Configuração incompleta" and "chave de API" in by_name["Sem chave"]["problem"]
    )
    assert by_name["Local"]["state"] == "Configurado" and by_name["Local"]["model"] == "qwen"
    assert llm["level"] == "error" and llm["last_reply_ago"] == "nunca" and llm["last_error"] == ""

    # The agent records an unavailable model as the handoff reason: the page shows the latest.
    with tenant_session(ws.workspace_id) as s:
        contact = Contact(workspace_id=ws.workspace_id, phone=f"+55119{uuid.uuid4().int % 10**8:08d}")
        s.add(contact)
        s.flush()
        conv = Conversation(
            workspace_id=ws.workspace_id,
            contact_id=contact.id,
            handoff_requested_at=datetime.now(UTC) - timedelta(minutes=2),
            handoff_reason="modelo de linguagem indisponível: o provedor demorou demais (timeout)",
        )
        s.add(conv)
        s.flush()
        msg = Message(workspace_id=ws.workspace_id, conversation_id=conv.id, text="oi")
        s.add(msg)
        s.flush()
        s.add(
            ConversationTurn(
                workspace_id=ws.workspace_id,
                conversation_id=conv.id,
                trigger_message_id=msg.id,
                route="llm",
                created_at=datetime.now(UTC) - timedelta(hours=3),
            )
        )
        s.commit()
    llm = panel.system_status(me)["llm"]
    assert llm["last_error"] == "o provedor demorou demais (timeout)" and llm["last_error_ago"] == "há 2 min"
    assert llm["last_reply_ago"] == "há 3 h"


def test_sellers_are_refused(workspace):
    ws = workspace[0]
    with pytest.raises(Forbidden):
        panel.system_status(Principal(ws.user_id, ws.workspace_id, Role.seller))


def test_channel_rows_reference_real_channels(workspace):
    """The status rows are the Canais page's rows: a deleted channel disappears."""
    ws = workspace[0]
    with tenant_session(ws.workspace_id) as s:
        ch = Channel(workspace_id=ws.workspace_id, name="Velho", provider="evolution")
        s.add(ch)
        s.commit()
    assert [c["name"] for c in panel.system_status(owner(ws))["channels"]] == ["Velho"]
