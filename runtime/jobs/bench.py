"""`python -m runtime bench fairness`: one tenant's bulk work must not delay another tenant's replies.

Tenant A adds hundreds of web pages to its knowledge base, each served slowly by a local server
(every page takes `page_seconds` to answer), so the worker has hundreds of slow ingestion jobs
queued. Meanwhile leads of tenant B write on WhatsApp (stored by the real ingest, a fixed
auto-reply channel pointed at a local Graph-like sink). The figure is each of B's turns' start
delay: when its turn began minus when it was due (the lead's message plus the debounce).

The same run is made twice, with the worker's two lanes (interactive / background) and with one
pool of the same total size (how the worker ran before lanes), and the ratio is reported."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.scratch import drop_workspace, scratch_workspace


class _SlowPage(BaseHTTPRequestHandler):
    """A web page that takes its time (a slow site a tenant imports)."""

    delay = 2.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        body = f"<html><head><title>Catálogo</title></head><body><h1>Produto {self.path}</h1>" + (
            "<p>Descrição longa do produto, com medidas, cores e prazos de entrega.</p>" * 40
        )
        data = (body + "</body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _bulk_tenant(pages: int, site: str) -> uuid.UUID:
    from runtime.knowledge.documents import add_url

    ws = scratch_workspace("bench-fairness-bulk")
    with tenant_session(ws) as s:
        for i in range(pages):
            add_url(s, ws, f"{site}/produto/{i}")
        s.commit()
    return ws


def _chat_tenant(sink: str):
    from runtime.channels.service import ChannelSettings, create_channel
    from runtime.pipeline.inbound import ChannelRef

    ws = scratch_workspace("bench-fairness-chat")
    with tenant_session(ws) as s:
        channel = create_channel(
            s,
            ws,
            provider="cloud_api",
            name="Bench",
            credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s", "verify_token": "v"},
            api_base_url=sink,
            settings={"debounce_seconds": 0, "auto_reply_text": "Olá! Já vamos te atender."},
        )
        s.commit()
        return ws, ChannelRef(channel.id, ws, "cloud_api", ChannelSettings.from_config(channel.config))


def _lead_writes(ref, i: int) -> uuid.UUID:
    from runtime.channels.base import InboundMessage, MessageKind, ParsedEvent
    from runtime.pipeline.inbound import ingest

    message = InboundMessage(
        provider_message_id=f"wamid.bench.{uuid.uuid4().hex}",
        from_phone=f"+55219{i:08d}",
        from_name=f"Lead {i}",
        timestamp=datetime.now(UTC),
        kind=MessageKind.text,
        text="Oi, vocês entregam hoje?",
    )
    return ingest(ref, ParsedEvent(messages=[message]), b"{}", "application/json").new_message_ids[0]


def _turn_delays(ws: uuid.UUID, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, float]:
    with tenant_session(ws) as s:
        rows = s.execute(
            text(
                "SELECT t.trigger_message_id, EXTRACT(EPOCH FROM t.created_at - m.created_at) FROM conversation_turn t "
                "JOIN message m ON m.id = t.trigger_message_id WHERE t.trigger_message_id = ANY(:ids)"
            ),
            {"ids": message_ids},
        ).all()
    return {r[0]: float(r[1]) for r in rows}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _run(single_lane: bool, pages: int, leads: int, interval: float, cutoff: float, sink: str, site: str) -> dict:
    from runtime.jobs.postgres import run_worker

    bulk = _bulk_tenant(pages, site)
    chat, ref = _chat_tenant(sink)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def work() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_worker(stop, poll_seconds=0.5, grace_seconds=0, single_lane=single_lane))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        time.sleep(3)  # the bulk tenant's jobs fill the worker
        message_ids = []
        for i in range(leads):
            message_ids.append(_lead_writes(ref, i))
            time.sleep(interval)
        deadline = time.monotonic() + cutoff
        while time.monotonic() < deadline and len(_turn_delays(chat, message_ids)) < leads:
            time.sleep(0.5)
        delays = _turn_delays(chat, message_ids)
        with tenant_session(bulk) as s:
            ingested = s.execute(text("SELECT count(*) FROM knowledge_document WHERE status = 'ready'")).scalar_one()
    finally:
        loop.call_soon_threadsafe(stop.set)
        worker.join(timeout=60)
        drop_workspace(bulk)
        drop_workspace(chat)
    started = list(delays.values())
    # A turn that had not started when the measurement ended counts as the cutoff (a lower bound).
    measured = started + [cutoff + interval * leads] * (leads - len(started))
    return {
        "lanes": "one pool (before)" if single_lane else "interactive + background",
        "turns_started": f"{len(started)}/{leads}",
        "turn_start_delay_s": {
            "p50": _pct(measured, 0.5),
            "p95": _pct(measured, 0.95),
            "max": round(max(measured), 3),
        },
        "bulk_pages_ingested_meanwhile": ingested,
    }


def bench_fairness(pages: int = 500, page_seconds: float = 2.0, leads: int = 40, cutoff: float = 45.0) -> dict:
    import os

    from runtime.config import get_settings
    from runtime.followups.bench import _GraphSink

    # The slow site and the Graph sink listen on loopback, which the egress guard refuses by
    # default (SSRF): this benchmark process allows exactly these two endpoints for itself.
    _SlowPage.delay = page_seconds
    page_server, site = _serve(_SlowPage)
    sink_server, sink = _serve(_GraphSink)
    os.environ["EGRESS_ALLOW_PRIVATE_NETWORKS"] = ",".join(u.removeprefix("http://") for u in (site, sink))
    get_settings.cache_clear()
    settings = get_settings()
    try:
        report = {
            "bulk_tenant": f"{pages} web pages, each answering in {page_seconds:g} s",
            "chat_tenant": f"{leads} leads writing one message every 0.25 s",
            "worker_slots": f"{settings.worker_concurrency} interactive + {settings.worker_background_concurrency} "
            "background",
            "runs": [
                _run(single, pages, leads, 0.25, cutoff, sink, site) for single in (False, True)
            ],  # lanes first: the comparison run would leave the queue busy
        }
    finally:
        page_server.shutdown()
        sink_server.shutdown()
    lanes, pool = (r["turn_start_delay_s"]["p95"] for r in report["runs"])
    report["p95_ratio_one_pool_over_lanes"] = round(pool / lanes, 1) if lanes > 0 else None
    return report
