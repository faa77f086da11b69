"""Follow-up fixtures: a workspace with an agent whose cadence the test chooses, a channel on a
provider fake, a lead who writes (through the real ingest) and our replies (the real
queue_message); gcloud-tasks-emulator in its own small virtualenv for the Cloud Tasks engine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.models import Author, Conversation, Followup, Message
from db.tenancy import tenant_session
from runtime.agent.service import create_agent
from runtime.channels.base import InboundMessage, MessageKind, ParsedEvent
from runtime.channels.service import ChannelSettings, create_channel
from runtime.pipeline.inbound import ChannelRef, ingest
from runtime.pipeline.outbound import queue_message
from tests.conftest import ROOT
from tests.fakes import cloud_api as meta
from tests.fakes.evolution import FakeEvolution
from tests.fakes.servers import free_port, serve_in_thread

EMULATOR = "gcloud-tasks-emulator==0.6.2"
EMULATOR_VENV = ROOT / ".data" / "venvs" / "gcloud-tasks-emulator-0.6.2"


@pytest.fixture(scope="module")
def graph() -> Iterator[meta.FakeGraph]:
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def evolution() -> Iterator[FakeEvolution]:
    fake = FakeEvolution()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


def step(delay: int, unit: str = "seconds", text_: str = "", **kw) -> dict:
    return {"delay": delay, "unit": unit, "text": text_, **kw}


@dataclass
class Lead:
    workspace_id: uuid.UUID
    channel: ChannelRef
    agent_id: uuid.UUID
    phone: str = field(default_factory=lambda: f"+55119{uuid.uuid4().int % 10**8:08d}")
    conversation_id: uuid.UUID | None = None

    def writes(self, body: str = "Oi") -> None:
        """The lead sends a WhatsApp message (stored by the real ingest, as a webhook would)."""
        message = InboundMessage(
            provider_message_id=f"wamid.{uuid.uuid4().hex}",
            from_phone=self.phone,
            from_name="Ana Souza",
            timestamp=datetime.now(UTC),
            kind=MessageKind.text,
            text=body,
        )
        result = ingest(self.channel, ParsedEvent(messages=[message]), b"{}", "application/json")
        assert result.new_message_ids, "the lead's message was not stored"
        with tenant_session(self.workspace_id) as s:
            m = s.get(Message, result.new_message_ids[0])
            self.conversation_id = m.conversation_id

    def we_reply(self, body: str = "Olá! Como posso ajudar?", author: Author = Author.agent) -> None:
        """Our reply (what a turn or a seller queues)."""
        with tenant_session(self.workspace_id) as s:
            conv = s.get(Conversation, self.conversation_id)
            queue_message(s, conv, text=body, author=author)
            s.commit()

    def followups(self) -> list[Followup]:
        with tenant_session(self.workspace_id) as s:
            rows = s.exec(
                select(Followup)
                .where(Followup.conversation_id == self.conversation_id)
                .order_by(Followup.created_at, Followup.step)
            ).all()
            s.expunge_all()
            return list(rows)

    def pending(self) -> Followup | None:
        rows = [f for f in self.followups() if f.status == "scheduled"]
        assert len(rows) <= 1
        return rows[0] if rows else None

    def outbound(self) -> list[Message]:
        with tenant_session(self.workspace_id) as s:
            rows = s.exec(
                select(Message)
                .where(Message.conversation_id == self.conversation_id, Message.direction == "outbound")
                .order_by(Message.created_at, Message.id)
            ).all()
            s.expunge_all()
            return list(rows)

    def followup_messages(self) -> list[Message]:
        return [m for m in self.outbound() if m.details.get("followup_id")]

    def update(self, sql: str, **params) -> None:
        with tenant_session(self.workspace_id) as s:
            s.execute(text(sql), {"c": self.conversation_id, **params})
            s.commit()


@pytest.fixture
def make_lead(make_workspace, graph, evolution):
    """make_lead(steps, provider="cloud_api", **cadence/agent settings) -> Lead."""

    def _make(steps: list[dict], provider: str = "cloud_api", hours: dict | None = None, **cadence) -> Lead:
        ws = make_workspace(f"Loja {uuid.uuid4().hex[:4]}")
        settings = {"followups": {"enabled": True, "steps": steps, **cadence}}
        if hours is not None:
            settings["business_hours"] = hours
        if provider == "cloud_api":
            creds = {
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": "s",
                "verify_token": "v",
            }
            base = graph.base_url
        else:
            creds = {"instance": evolution.instance, "api_key": evolution.api_key, "webhook_secret": "w"}
            base = evolution.base_url
        with tenant_session(ws.workspace_id) as s:
            agent = create_agent(s, ws.workspace_id, name="Vendedora", settings=settings)
            agent.config = {**agent.config, "llm": {**agent.config["llm"], "provider": "none"}}
            s.add(agent)
            channel = create_channel(
                s,
                ws.workspace_id,
                provider=provider,
                name="WhatsApp",
                credentials=creds,
                api_base_url=base,
                agent_id=agent.id,
                settings={"debounce_seconds": 0.2},
            )
            ref = ChannelRef(
                id=channel.id,
                workspace_id=ws.workspace_id,
                provider=provider,
                settings=ChannelSettings.from_config(channel.config),
                agent_id=agent.id,
            )
            s.commit()
            return Lead(ws.workspace_id, ref, agent.id)

    return _make


# --- gcloud-tasks-emulator (pins google-cloud-tasks 2.23 / protobuf 4: its own virtualenv) --------


def _emulator_bin() -> Path:
    exe = EMULATOR_VENV / "bin" / "gcloud-tasks-emulator"
    if not exe.exists():
        EMULATOR_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(EMULATOR_VENV)], check=True)
        subprocess.run(
            [str(EMULATOR_VENV / "bin" / "python"), "-m", "pip", "install", "-q", EMULATOR],
            check=True,
            timeout=600,
        )
    return exe


@pytest.fixture(scope="session")
def tasks_emulator() -> Iterator[str]:
    """host:port of a running gcloud-tasks-emulator (installed once under .data/venvs)."""
    exe = _emulator_bin()
    port = free_port()
    log = open(ROOT / ".data" / "venvs" / f"emulator-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(exe), "start", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gcloud-tasks-emulator did not start") from None
            time.sleep(0.1)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def set_env(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or unset, for None) environment variables and reload settings; returns the old values."""
    from runtime.config import get_settings

    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()
    return old
