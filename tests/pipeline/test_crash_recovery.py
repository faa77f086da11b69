"""A lead is answered exactly once whatever dies: the job worker is a real process (`python -m
runtime worker`) that the tests kill with SIGKILL mid-turn (the local model fake is thinking) and
mid-send (the local Graph fake holds the request), or stop with SIGTERM; a second worker process
then takes the work over. Real service, real PostgreSQL, real OpenAI and Graph clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from db.models import Role
from db.tenancy import tenant_session
from runtime.access import Principal
from runtime.auth.api_keys import create_api_key
from runtime.knowledge.documents import add_document, ingest_document
from tests.conftest import ROOT, TEST_DATA, wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.servers import serve_in_thread

APP_SECRET = "segredo-crash"
ANSWER = "Temos convênio com o estacionamento Park Center, ao lado da clínica [1]. Posso ajudar em algo mais?"
COMPANY = ROOT / "tests" / "data" / "company" / "sobre-nos.md"
LEASE_S = 2.0  # the workers' lease and heartbeat timeout: a dead worker's work moves in seconds


@pytest.fixture(scope="module")
def graph() -> Iterator[meta.FakeGraph]:
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def shop(service, graph, llm, workspace):
    """A workspace whose agent (pilot, OpenAI-compatible model at the local fake) answers on a Cloud
    API channel; the fakes are reset for each test."""
    fake, url = llm
    fake.reset()
    fake.default_reply = ANSWER
    graph.reset()
    ws, _, _ = workspace
    with tenant_session(ws.workspace_id) as s:  # what the agent answers from
        doc = add_document(s, ws.workspace_id, filename="sobre-nos.md", data=COMPANY.read_bytes()).document.id
        s.commit()
    assert ingest_document(ws.workspace_id, doc) == "ready"
    key = create_api_key(ws.workspace_id, "crash").key
    api = httpx.Client(base_url=service, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    agent = api.post(
        "/api/v1/agents",
        json={
            "name": "Sofia",
            "mode": "pilot",
            "persona": "Você é a Sofia, da Clínica Sorriso.",
            "llm": {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "base_url": f"{url}/v1",
                "api_key": fake.api_key,
                "timeout_seconds": 120,
                "max_retries": 0,
            },
        },
    )
    assert agent.status_code == 201, agent.text
    channel = api.post(
        "/api/v1/channels",
        json={
            "provider": "cloud_api",
            "name": "Oficial",
            "api_base_url": graph.base_url,
            "agent_id": agent.json()["id"],
            "credentials": {
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": APP_SECRET,
                "verify_token": "v",
            },
            "settings": {"debounce_seconds": 0.2},
        },
    )
    assert channel.status_code == 201, channel.text
    api.ws = ws.workspace_id
    api.owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    api.hook = channel.json()["webhook_url"].removeprefix("http://testserver")
    yield api
    api.close()


class Worker:
    """`python -m runtime worker` as its own process, with short leases and polls."""

    def __init__(self, pg, **env: str) -> None:
        TEST_DATA.mkdir(parents=True, exist_ok=True)  # removed with the test session's data
        self.log = open(TEST_DATA / f"worker-{uuid.uuid4().hex[:6]}.log", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runtime", "worker"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": pg.app,
                "DATABASE_ADMIN_URL": pg.admin,
                "JOB_LEASE_SECONDS": str(LEASE_S),
                "JOB_HEARTBEAT_TIMEOUT_SECONDS": str(LEASE_S),
                "WORKER_POLL_SECONDS": "0.5",
                "WORKER_GRACE_SECONDS": "3",
                "PYTHONWARNINGS": "ignore",
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def workers(pg) -> Iterator:
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        w = Worker(pg, **env)
        started.append(w)
        return w

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait(timeout=10)
        if not w.log.closed:
            w.log.close()


def lead() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


def say(api, phone: str, words: str) -> None:
    body, headers = meta.signed(meta.text_message(words, from_phone=phone, name="Ana Souza"), APP_SECRET)
    assert api.post(api.hook, content=body, headers=headers).status_code == 200


def accepted_to(graph: meta.FakeGraph, phone: str) -> list[str]:
    """Texts Graph accepted for the lead (what reached their WhatsApp)."""
    return [m["text"]["body"] for m in graph.messages if m.get("to") == phone and m.get("type") == "text"]


def requests_to(graph: meta.FakeGraph, phone: str) -> list[int]:
    """Statuses of every send request Graph received for the lead (0: the client hung up)."""
    return [r.status_code for r in graph.sent if r.kind == "message" and (r.json or {}).get("to") == phone]


def db(api, sql: str, **params):
    with tenant_session(api.ws) as s:
        return s.execute(text(sql), params).all()


def outbound(api, phone: str):
    return db(
        api,
        "SELECT m.status, m.text, m.error, m.in_flight FROM message m JOIN conversation c ON c.id = m.conversation_id "
        "JOIN contact p ON p.id = c.contact_id WHERE p.phone = :p AND m.direction = 'outbound' ORDER BY m.created_at",
        p="+" + phone,
    )


def test_a_worker_killed_while_the_model_thinks_is_taken_over_and_the_lead_answered_once(shop, graph, llm, workers):
    fake, _ = llm
    fake.stall_next(1, 120)  # the first model call never answers in time
    phone = lead()
    first = workers()
    say(shop, phone, "Oi, tem estacionamento aí perto?")
    wait_until(lambda: len(fake.requests) >= 1, timeout=60)  # the model is thinking
    first.kill()
    assert db(shop, "SELECT outcome FROM conversation_turn WHERE workspace_id = :w", w=shop.ws) == [("pending",)]

    second = workers()
    wait_until(lambda: accepted_to(graph, phone), timeout=60)
    time.sleep(LEASE_S * 2)  # nothing else may come
    assert accepted_to(graph, phone) == [ANSWER], second.output()
    assert len(fake.requests) == 2  # the model was asked again by the worker that took over
    turns = db(shop, "SELECT outcome, lease_owner FROM conversation_turn WHERE workspace_id = :w", w=shop.ws)
    assert turns == [("replied", None)]
    assert [(s, t) for s, t, _, _ in outbound(shop, phone)] == [("sent", ANSWER)]
    assert second.stop() == 0


def test_a_worker_killed_while_the_provider_holds_the_send_leaves_it_unknown_and_the_seller_resends_once(
    shop, graph, workers
):
    """The request reached Graph when the worker died: Graph may have sent it, so the worker that
    takes over does not send it again (that could reach the lead twice); the message turns
    'unknown', never stays 'sending', and the seller's "tentar de novo" sends it exactly once."""
    from runtime.panel.inbox import retry_message

    graph.delay_next(120)  # Graph takes the request and does not answer
    phone = lead()
    first = workers()
    say(shop, phone, "Oi, tem estacionamento aí perto?")
    wait_until(lambda: requests_to(graph, phone), timeout=60)  # the send is at Graph, waiting
    first.kill()
    second = workers()
    wait_until(lambda: outbound(shop, phone) and outbound(shop, phone)[0][0] == "unknown", timeout=60)
    _, body, error, in_flight = outbound(shop, phone)[0]
    assert (body, in_flight) == (ANSWER, False) and "may have reached the lead" in error
    time.sleep(LEASE_S * 2)
    assert requests_to(graph, phone) == [0]  # one request, abandoned by the dead worker: not repeated
    assert accepted_to(graph, phone) == []

    conversation_id = db(
        shop, "SELECT conversation_id FROM message WHERE text = :t AND workspace_id = :w", t=ANSWER, w=shop.ws
    )
    message_id = db(shop, "SELECT id FROM message WHERE text = :t AND workspace_id = :w", t=ANSWER, w=shop.ws)
    retry_message(shop.owner, conversation_id[0][0], message_id[0][0])
    wait_until(lambda: accepted_to(graph, phone), timeout=30)
    time.sleep(1)
    assert accepted_to(graph, phone) == [ANSWER]
    assert [s for s, *_ in outbound(shop, phone)] == ["sent"]
    assert second.stop() == 0


def test_a_worker_killed_while_waiting_to_retry_a_send_is_taken_over_and_sent_once(shop, graph, workers):
    """Graph answered 429 (it took nothing) and the worker died while waiting to try again: no
    request was under way, so the worker that takes over sends it, once."""
    graph.fail_next(1, status=429)
    phone = lead()
    first = workers(SEND_RETRY_BASE_SECONDS="30")  # the retry would come in 30 s: the worker dies first
    say(shop, phone, "Oi, tem estacionamento aí perto?")
    wait_until(lambda: requests_to(graph, phone) == [429], timeout=60)
    wait_until(lambda: outbound(shop, phone) and outbound(shop, phone)[0][3] is False, timeout=10)  # backing off
    first.kill()
    second = workers()
    wait_until(lambda: accepted_to(graph, phone), timeout=60)
    time.sleep(LEASE_S * 2)
    assert accepted_to(graph, phone) == [ANSWER]
    assert requests_to(graph, phone) == [429, 200]
    assert [s for s, *_ in outbound(shop, phone)] == ["sent"]
    assert second.stop() == 0


def test_sigterm_hands_an_unfinished_turn_back_within_the_grace_period(shop, graph, llm, workers):
    """SIGTERM (what Cloud Run and systemd send): a turn still waiting for the model when the grace
    period ends is handed back (lease released, job queued again) and the worker exits; the next
    worker answers the lead at once, without waiting for a lease to run out."""
    fake, _ = llm
    fake.stall_next(1, 120)
    phone = lead()
    first = workers(JOB_LEASE_SECONDS="60", JOB_HEARTBEAT_TIMEOUT_SECONDS="60")  # only a hand-back is quick
    say(shop, phone, "Oi, tem estacionamento aí perto?")
    wait_until(lambda: len(fake.requests) >= 1, timeout=60)
    t0 = time.monotonic()
    assert first.stop(timeout=20) == 0, first.output()
    assert time.monotonic() - t0 < 3 + 6  # the grace period (3 s) and a little
    assert "handed back" in first.output()
    assert db(shop, "SELECT outcome, lease_owner FROM conversation_turn WHERE workspace_id = :w", w=shop.ws) == [
        ("pending", None)
    ]
    second = workers()
    wait_until(lambda: accepted_to(graph, phone), timeout=30)
    time.sleep(1)
    assert accepted_to(graph, phone) == [ANSWER]
    assert second.stop() == 0


def test_sigterm_lets_a_job_in_flight_finish(shop, graph, llm, workers):
    """The turn in flight finishes within the grace period; the send it queued is a new job, which a
    stopping worker no longer starts: it waits, queued, for the next worker."""
    fake, _ = llm
    fake.stall_next(1, 1.5)  # the model answers within the grace period
    phone = lead()
    first = workers()
    say(shop, phone, "Oi, tem estacionamento aí perto?")
    wait_until(lambda: len(fake.requests) >= 1, timeout=60)
    assert first.stop(timeout=20) == 0
    assert "handed back" not in first.output()
    assert db(shop, "SELECT outcome FROM conversation_turn WHERE workspace_id = :w", w=shop.ws) == [("replied",)]
    assert [(s, t) for s, t, _, _ in outbound(shop, phone)] in ([("queued", ANSWER)], [("sent", ANSWER)])
    second = workers()
    wait_until(lambda: accepted_to(graph, phone), timeout=30)
    assert accepted_to(graph, phone) == [ANSWER]
    assert second.stop() == 0
