"""`python -m runtime bench followups`: how punctual the follow-up steps are.

A scratch workspace gets an agent whose cadence has one step `delay` seconds after the lead's last
message, a Cloud API channel pointed at a local sink that answers like the Graph API, and N leads
who just wrote and got our reply (which schedules the step). The job worker runs in this process;
the figure is each step's lateness: when it went out minus when it was due."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import text

from db.models import Author, Contact, Conversation, Direction, Message, MessageStatus, utcnow
from db.tenancy import tenant_session
from runtime.scratch import drop_workspace


class _GraphSink(BaseHTTPRequestHandler):
    """Accepts every send like Graph does (the provider is not what is measured)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


def _setup(leads: int, delay_s: int, sink_url: str) -> uuid.UUID:
    from runtime.agent.service import create_agent
    from runtime.auth.accounts import create_workspace
    from runtime.channels.base import MessageKind
    from runtime.channels.service import create_channel
    from runtime.pipeline.outbound import queue_message

    tag = f"bench-followups-{uuid.uuid4().hex[:8]}"
    ws = create_workspace(tag, f"{tag}@example.com", None, google_sub=tag).workspace_id
    with tenant_session(ws) as s:
        agent = create_agent(
            s,
            ws,
            name="Bench",
            settings={
                "llm": {"provider": "none"},
                "followups": {
                    "enabled": True,
                    "steps": [
                        {"delay": delay_s, "unit": "seconds", "content": "text", "text": "Oi {nome}, ainda quer?"}
                    ],
                    "daily_cap_per_channel": 10_000,
                    "min_spacing_seconds": 0,
                },
            },
        )
        s.flush()
        channel = create_channel(
            s,
            ws,
            provider="cloud_api",
            name="Bench",
            credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s", "verify_token": "v"},
            api_base_url=sink_url,
            agent_id=agent.id,
        )
        s.flush()
        now = utcnow()
        for i in range(leads):
            contact = Contact(workspace_id=ws, phone=f"+55119{i:08d}", name=f"Lead {i}")
            s.add(contact)
            s.flush()
            conv = Conversation(
                workspace_id=ws,
                contact_id=contact.id,
                channel_id=channel.id,
                agent_id=agent.id,
                last_inbound_at=now,
                last_message_at=now,
            )
            s.add(conv)
            s.flush()
            s.add(
                Message(
                    workspace_id=ws,
                    conversation_id=conv.id,
                    channel_id=channel.id,
                    direction=Direction.inbound,
                    author=Author.lead,
                    text="oi",
                    status=MessageStatus.received,
                    created_at=now,
                )
            )
            queue_message(s, conv, kind=MessageKind.text, text="Olá! Como posso ajudar?", author=Author.agent)
        s.commit()
    return ws


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def bench_followups(leads: int = 200, delay_s: int = 10, concurrency: int = 8) -> dict:
    from runtime.jobs import run_worker

    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.perf_counter()
    ws = _setup(leads, delay_s, sink)
    setup_s = time.perf_counter() - started

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def work() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_worker(stop, concurrency=concurrency, poll_seconds=0.5))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + delay_s + 120
        while time.monotonic() < deadline:
            with tenant_session(ws) as s:
                pending = s.execute(text("SELECT count(*) FROM followup WHERE status = 'scheduled'")).scalar_one()
                total = s.execute(text("SELECT count(*) FROM followup")).scalar_one()
                unsent = s.execute(
                    text(
                        "SELECT count(*) FROM message WHERE details ? 'followup_id' AND status IN ('queued', 'sending')"
                    )
                ).scalar_one()
            if total >= leads and pending == 0 and unsent == 0:
                break
            time.sleep(0.5)
        with tenant_session(ws) as s:
            rows = s.execute(
                text("SELECT status, extract(epoch FROM sent_at - due_at) FROM followup ORDER BY due_at")
            ).all()
            delivered = s.execute(
                text("SELECT count(*) FROM message WHERE details ? 'followup_id' AND status = 'sent'")
            ).scalar_one()
    finally:
        loop.call_soon_threadsafe(stop.set)
        worker.join(timeout=30)
        server.shutdown()
        drop_workspace(ws)
    late = [float(r[1]) for r in rows if r[0] == "sent" and r[1] is not None]
    statuses: dict[str, int] = {}
    for status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "leads": leads,
        "step_delay_s": delay_s,
        "setup_s": round(setup_s, 1),
        "steps_by_status": statuses,
        "follow_up_messages_delivered": delivered,
        # sent minus due: negative = early (the job queue may start a job a few hundred ms ahead)
        "sent_minus_due_ms": (
            {
                "abs_p50": _pct([abs(x) for x in late], 0.5),
                "abs_p95": _pct([abs(x) for x in late], 0.95),
                "earliest": round(min(late) * 1000, 1),
                "latest": round(max(late) * 1000, 1),
                "mean": round(statistics.mean(late) * 1000, 1),
            }
            if late
            else None
        ),
    }
