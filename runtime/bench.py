"""`python -m runtime bench ingest`: signed Cloud API webhooks (a share of them redeliveries) posted
at a running service on loopback; prints throughput, ack latency, and what was stored."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import httpx
from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.jobs.names import PROCESS_TURN
from runtime.scratch import drop_workspace, scratch_workspace


@dataclass
class BenchChannel:
    workspace_id: uuid.UUID
    channel_id: uuid.UUID
    app_secret: str
    url: str


def _setup(base_url: str) -> BenchChannel:
    from runtime.channels.service import create_channel

    ws = scratch_workspace("bench")
    app_secret = secrets.token_hex(16)
    with tenant_session(ws) as s:
        channel = create_channel(
            s,
            ws,
            provider="cloud_api",
            name="bench",
            credentials={"phone_number_id": "100", "access_token": "x", "app_secret": app_secret, "verify_token": "v"},
            api_base_url="http://127.0.0.1:9",  # no replies are configured: nothing is ever sent
        )
        s.commit()
        channel_id = channel.id
    return BenchChannel(ws, channel_id, app_secret, f"{base_url}/webhooks/cloud-api/{channel_id}")


def _payload(i: int, wamid: str) -> dict:
    phone = f"5511{9_0000_0000 + i % 5000:09d}"  # 5,000 distinct leads
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5511900000000", "phone_number_id": "100"},
                            "contacts": [{"profile": {"name": f"Lead {i}"}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"Olá, qual o preço do produto {i}?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _signed(body: bytes, secret: str) -> dict[str, str]:
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={sig}"}


async def _post_all(ch: BenchChannel, n: int, duplicates: float, concurrency: int) -> tuple[list[float], int, int]:
    unique = max(1, round(n * (1 - duplicates)))
    wamids = [f"wamid.bench.{uuid.uuid4().hex}" for _ in range(unique)]
    plan = list(range(unique)) + [random.randrange(unique) for _ in range(n - unique)]
    random.shuffle(plan)
    bodies = [json.dumps(_payload(i, wamids[i])).encode() for i in plan]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    # aiohttp, not httpx: at 64 concurrent requests httpx's pool used more CPU than the server.
    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while True:
            try:
                body = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            try:
                async with session.post(ch.url, data=body, headers=_signed(body, ch.app_secret)) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return latencies, errors, unique


def _wait_ready(url: str, proc: subprocess.Popen | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the service did not become ready")


def bench_ingest(n: int, duplicates: float, concurrency: int, url: str | None, workers: int) -> dict:
    """Run the benchmark; starts `python -m runtime serve` on a free port unless --url is given."""
    from db.engine import database_urls

    proc = None
    if url is None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        urls = database_urls()
        env = {
            **os.environ,
            "DATABASE_URL": urls.app,
            "DATABASE_ADMIN_URL": urls.admin,
            "WORKER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        cmd = [sys.executable, "-m", "runtime", "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(workers), "--no-worker", "--quiet"]
        proc = subprocess.Popen(cmd, env=env)  # noqa: S603
        url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        ch = _setup(url)
        try:
            t0 = time.perf_counter()
            latencies, errors, unique = asyncio.run(_post_all(ch, n, duplicates, concurrency))
            elapsed = time.perf_counter() - t0
            with tenant_session(ch.workspace_id) as s:
                stored = s.execute(
                    text("SELECT count(*) FROM message WHERE channel_id = :c"), {"c": ch.channel_id}
                ).scalar()
                distinct = s.execute(
                    text("SELECT count(DISTINCT provider_message_id) FROM message WHERE channel_id = :c"),
                    {"c": ch.channel_id},
                ).scalar()
                turns = s.execute(
                    text(
                        "SELECT count(*) FROM pgqueuer WHERE entrypoint = :job "
                        "AND convert_from(payload, 'UTF8')::jsonb->>'workspace_id' = :ws"
                    ),
                    {"job": PROCESS_TURN, "ws": str(ch.workspace_id)},
                ).scalar()
        finally:
            drop_workspace(ch.workspace_id)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    latencies.sort()
    return {
        "posted": n,
        "unique_messages": unique,
        "redeliveries": n - unique,
        "concurrency": concurrency,
        "server_workers": workers,
        "elapsed_s": round(elapsed, 2),
        "messages_per_s": round(n / elapsed, 1),
        "ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "ack_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        "http_errors": errors,
        "stored": stored,
        "lost": unique - distinct,
        "duplicated": stored - distinct,
        "turn_jobs_queued": turns,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
