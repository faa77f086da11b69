"""The whole pipeline on the Cloud API: webhook -> stored once -> debounced turn -> reply sent to a
fake Graph server -> statuses back. Real service over HTTP, real worker, real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from db.models import Conversation
from db.tenancy import tenant_session
from tests.fakes import cloud_api as meta
from tests.fakes.servers import serve_in_thread

from .conftest import wait_until, webhook_path

APP_SECRET = "meta-app-secret"
VERIFY = "verifica-123"
REPLY = "Olá! Recebemos sua mensagem e já vamos te ajudar."


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture
def channel(api, graph):
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "cloud_api",
            "name": "Oficial",
            "api_base_url": graph.base_url,
            "credentials": {
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY,
            },
            "settings": {"debounce_seconds": 0.3, "auto_reply_text": REPLY},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    body["path"] = webhook_path(body["webhook_url"])
    return body


def lead() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


def post(api: httpx.Client, path: str, payload: dict | bytes, secret: str = APP_SECRET) -> httpx.Response:
    body, headers = meta.signed(payload, secret)
    return api.post(path, content=body, headers={**headers, "Authorization": ""})


def replies_to(graph: meta.FakeGraph, phone: str) -> list[dict]:
    return [m for m in graph.messages if m.get("to") == phone]


def queue_is_idle() -> bool:
    """No turn or send of any test is waiting or running (the Graph fake is shared by the module)."""
    from db.engine import app_engine

    with app_engine().connect() as conn:
        return not conn.execute(
            text(
                "SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked') "
                "AND entrypoint IN ('pipeline.process_turn', 'channels.send_message') "
                "AND execute_after < now() + interval '3 seconds'"  # not a retry due in a minute
            )
        ).scalar()


def db(api, sql: str, **params):
    with tenant_session(api.workspace_id) as s:
        return s.execute(text(sql), params).all()


def test_a_lead_is_answered_end_to_end_and_statuses_come_back(api, graph, channel, worker):
    phone = lead()
    r = post(api, channel["path"], meta.text_message("Oi, vocês abrem sábado?", from_phone=phone, name="Ana"))
    assert r.status_code == 200 and r.json()["messages"] == 1

    wait_until(lambda: replies_to(graph, phone))
    sent = replies_to(graph, phone)
    assert [m["text"]["body"] for m in sent] == [REPLY]

    def outbound():
        return db(
            api,
            "SELECT status, provider_message_id, attempts FROM message WHERE direction = 'outbound' "
            "AND channel_id = :c",
            c=channel["id"],
        )

    wait_until(lambda: outbound() and outbound()[0].status == "sent")
    _, wamid, attempts = outbound()[0]
    assert wamid.startswith("wamid.") and attempts == 1
    inbound = db(
        api,
        "SELECT m.text, c.name, c.phone FROM message m JOIN conversation v ON v.id = m.conversation_id "
        "JOIN contact c ON c.id = v.contact_id WHERE m.direction = 'inbound' AND m.channel_id = :c",
        c=channel["id"],
    )
    assert inbound == [("Oi, vocês abrem sábado?", "Ana", "+" + phone)]

    for st in ("delivered", "read"):
        assert post(api, channel["path"], meta.status(wamid, st, recipient=phone)).json()["statuses"] == 1
    assert post(api, channel["path"], meta.status(wamid, "delivered", recipient=phone)).json()["statuses"] == 0
    row = db(
        api,
        "SELECT status, delivered_at IS NOT NULL, read_at IS NOT NULL FROM message WHERE provider_message_id = :w",
        w=wamid,
    )
    assert row == [("read", True, True)]


def test_handshake(api, channel):
    ok = api.get(channel["path"], params=meta.handshake_query(VERIFY, challenge="4242"))
    assert ok.status_code == 200 and ok.text == "4242"
    assert api.get(channel["path"], params=meta.handshake_query("errado")).status_code == 403


def test_wrong_or_missing_signature_stores_nothing(api, channel):
    body = meta.encode(meta.text_message("oi", from_phone=lead()))
    forged = api.post(channel["path"], content=body, headers={"x-hub-signature-256": "sha256=" + "0" * 64})
    other_key = post(api, channel["path"], body, secret="outro-segredo")
    missing = api.post(channel["path"], content=body, headers={"content-type": "application/json"})
    assert (forged.status_code, other_key.status_code, missing.status_code) == (403, 403, 401)
    assert "error" in forged.json()
    assert db(api, "SELECT count(*) FROM webhook_event WHERE channel_id = :c", c=channel["id"]) == [(0,)]
    assert db(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=channel["id"]) == [(0,)]


def test_malformed_input_is_4xx_and_touches_nothing(api, channel, make_workspace):
    path = channel["path"]
    assert post(api, path, b"{not json").status_code == 400
    assert post(api, path, b'{"object": "whatsapp_business_account", "entry": 7}').status_code == 400
    unknown = f"/webhooks/cloud-api/{uuid.uuid4()}"
    assert post(api, unknown, meta.text_message("oi")).status_code == 404
    assert post(api, "/webhooks/cloud-api/not-a-uuid", meta.text_message("oi")).status_code == 404
    assert post(api, path.replace("cloud-api", "telegram"), meta.text_message("oi")).status_code == 404
    assert post(api, path.replace("cloud-api", "zapi"), meta.text_message("oi")).status_code == 404
    huge = post(api, path, b"{" + b" " * 1_100_000 + b"}")
    assert huge.status_code == 413
    assert db(api, "SELECT count(*) FROM webhook_event WHERE channel_id = :c", c=channel["id"]) == [(0,)]


def test_the_same_event_posted_20_times_in_parallel_is_stored_and_answered_once(api, graph, channel, worker):
    phone = lead()
    body, headers = meta.signed(meta.text_message("Quero um orçamento", from_phone=phone), APP_SECRET)

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=str(api.base_url)) as client:
            rs = await asyncio.gather(*(client.post(channel["path"], content=body, headers=headers) for _ in range(20)))
        return [r.status_code for r in rs]

    assert asyncio.run(flood()) == [200] * 20
    assert db(api, "SELECT count(*) FROM message WHERE channel_id = :c AND direction = 'inbound'", c=channel["id"]) == [
        (1,)
    ]
    assert db(api, "SELECT count(*) FROM webhook_event WHERE channel_id = :c", c=channel["id"]) == [(20,)]
    wait_until(lambda: replies_to(graph, phone))
    time.sleep(1.0)  # any second reply would have been sent by now
    assert len(replies_to(graph, phone)) == 1
    assert db(
        api,
        "SELECT count(*) FROM conversation_turn t JOIN conversation c ON c.id = t.conversation_id "
        "WHERE c.channel_id = :c",
        c=channel["id"],
    ) == [(1,)]


def test_a_burst_within_the_debounce_window_gets_one_reply(api, graph, channel, worker):
    phone = lead()
    for words in ("Oi", "tudo bem?", "quanto custa a consulta?"):
        assert post(api, channel["path"], meta.text_message(words, from_phone=phone)).status_code == 200
    wait_until(lambda: replies_to(graph, phone))
    time.sleep(1.0)
    assert len(replies_to(graph, phone)) == 1
    outcomes = db(
        api,
        "SELECT t.outcome FROM conversation_turn t JOIN conversation c ON c.id = t.conversation_id "
        "WHERE c.channel_id = :c",
        c=channel["id"],
    )
    assert outcomes == [("replied",)]


def test_a_send_that_fails_twice_is_retried_and_delivered_once(api, graph, channel, worker):
    phone = lead()
    graph.fail_next(2, status=500)
    post(api, channel["path"], meta.text_message("oi", from_phone=phone))

    def outbound():
        rows = db(
            api,
            "SELECT status, attempts, error FROM message WHERE direction = 'outbound' AND channel_id = :c",
            c=channel["id"],
        )
        return rows if rows and rows[0].status in ("sent", "failed") else None

    assert wait_until(outbound)[0] == ("sent", 3, None)
    assert len(replies_to(graph, phone)) == 1  # the two refused attempts were not accepted by the provider


def test_a_final_failure_is_visible_on_the_message_and_the_channel(api, graph, channel, worker):
    graph.fail_next(1, status=400, code=131026, message="Message undeliverable")
    post(api, channel["path"], meta.text_message("oi", from_phone=lead()))

    def outbound():
        rows = db(
            api,
            "SELECT status, attempts, error FROM message WHERE direction = 'outbound' AND channel_id = :c",
            c=channel["id"],
        )
        return rows if rows and rows[0].status in ("sent", "failed") else None

    status, attempts, error = wait_until(outbound)[0]
    assert status == "failed" and attempts == 1 and "131026" in error  # a 400 is not retried
    shown = api.get(f"/api/v1/channels/{channel['id']}").json()
    assert "131026" in shown["last_error"]


def test_outside_the_24_hour_window_only_templates_go_out(api, graph, channel, worker):
    phone = lead()
    old = int(time.time()) - 25 * 3600
    post(api, channel["path"], meta.text_message("oi, ainda tem?", from_phone=phone, timestamp=old))
    outcome = wait_until(  # the turn row exists as 'pending' while it is being decided
        lambda: db(
            api,
            "SELECT t.outcome FROM conversation_turn t JOIN conversation c ON c.id = t.conversation_id "
            "WHERE c.channel_id = :c AND t.outcome <> 'pending'",
            c=channel["id"],
        )
    )
    assert outcome == [("skipped: outside the 24-hour window",)]
    (conversation_id,) = db(api, "SELECT id FROM conversation WHERE channel_id = :c", c=channel["id"])[0]

    conv = api.get("/api/v1/conversations").json()
    assert [c["window_open"] for c in conv if c["id"] == str(conversation_id)] == [False]
    refused = api.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Oi! Ainda temos."})
    assert refused.status_code == 409 and "24-hour" in refused.json()["detail"]

    ok = api.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"kind": "template", "template": {"name": "retomar_contato", "variables": ["Ana"]}},
    )
    assert ok.status_code == 202, ok.text
    wait_until(lambda: replies_to(graph, phone))
    (sent,) = replies_to(graph, phone)
    assert sent["type"] == "template" and sent["template"]["name"] == "retomar_contato"
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Ana"}]


def test_inside_the_window_a_seller_can_send_free_text(api, graph, channel, worker):
    phone = lead()
    channel_id = channel["id"]
    api.patch(f"/api/v1/channels/{channel_id}", json={"settings": {"auto_reply_text": ""}})
    from runtime.api.routes.webhooks import forget_channel

    forget_channel(uuid.UUID(channel_id))
    post(api, channel["path"], meta.text_message("oi", from_phone=phone))
    conv_id = wait_until(lambda: db(api, "SELECT id FROM conversation WHERE channel_id = :c", c=channel_id))[0][0]
    r = api.post(f"/api/v1/conversations/{conv_id}/messages", json={"text": "Olá, aqui é a Júlia!"})
    assert r.status_code == 202
    wait_until(lambda: replies_to(graph, phone))
    assert [m["text"]["body"] for m in replies_to(graph, phone)] == ["Olá, aqui é a Júlia!"]
    messages = api.get(f"/api/v1/conversations/{conv_id}/messages").json()
    assert [m["direction"] for m in messages] == ["inbound", "outbound"]


def test_media_and_statuses_for_unknown_messages(api, channel):
    media_id = "1234567890"
    r = post(
        api,
        channel["path"],
        meta.media_message("audio", media_id, "audio/ogg; codecs=opus", voice=True, from_phone=lead()),
    )
    assert r.status_code == 200
    row = db(
        api, "SELECT kind, media->>'id', (media->>'voice')::bool FROM message WHERE channel_id = :c", c=channel["id"]
    )
    assert row == [("audio", media_id, True)]
    r = post(api, channel["path"], meta.status("wamid.nao-existe", "delivered"))
    assert r.status_code == 200 and r.json()["statuses"] == 0


def test_a_send_job_delivered_twice_sends_once(api, graph, channel):
    """Exactly-once effect: runs of the same send job race (a redelivery, and the module's worker
    may pick it up too); one of them claims the message, the provider gets it once."""
    from runtime.pipeline.outbound import queue_message, send_queued

    phone = lead()
    post(api, channel["path"], meta.text_message("oi", from_phone=phone))
    wait_until(lambda: replies_to(graph, phone))  # the auto-reply (when a worker runs) is out of the way
    with tenant_session(api.workspace_id) as s:
        conv = s.exec(select(Conversation).where(Conversation.channel_id == uuid.UUID(channel["id"]))).one()
        message_id = queue_message(s, conv, text="Só uma vez").id
        s.commit()

    async def twice_settled():
        return await asyncio.gather(
            send_queued(api.workspace_id, message_id), send_queued(api.workspace_id, message_id), return_exceptions=True
        )

    from runtime.jobs.lease import LeaseHeld

    results = asyncio.run(twice_settled())
    # one sends; the other finds it sent (None) or still leased (its job comes back later)
    assert results.count("sent") <= 1 and all(r in ("sent", None) or isinstance(r, LeaseHeld) for r in results)
    wait_until(lambda: [m for m in replies_to(graph, phone) if m["text"]["body"] == "Só uma vez"])
    time.sleep(0.5)
    assert [m["text"]["body"] for m in replies_to(graph, phone)] == [REPLY, "Só uma vez"]


def test_a_send_abandoned_by_a_dead_worker_is_sent_when_the_job_comes_back(api, graph, channel):
    """A worker died holding a send's lease: while the lease lives a redelivered job comes back later
    (LeaseHeld); once it ended the send is taken over, unless a request was under way then (unknown:
    the provider may have it, and a second request could reach the lead twice)."""
    from runtime.jobs.lease import LeaseHeld
    from runtime.pipeline.outbound import queue_message, send_queued

    phone = lead()
    post(api, channel["path"], meta.text_message("oi", from_phone=phone))
    wait_until(lambda: db(api, "SELECT id FROM conversation WHERE channel_id = :c", c=channel["id"]))
    with tenant_session(api.workspace_id) as s:
        conv = s.exec(select(Conversation).where(Conversation.channel_id == uuid.UUID(channel["id"]))).one()
        message_id = queue_message(s, conv, text="Voltei!").id
        mid_request = queue_message(s, conv, text="Talvez já tenha ido").id
        s.execute(
            text(
                "UPDATE message SET status = 'sending', lease_owner = 'morto:1', in_flight = (id = :m2), "
                "lease_expires_at = now() + interval '1 minute' WHERE id IN (:m1, :m2)"
            ),
            {"m1": message_id, "m2": mid_request},
        )
        s.commit()
    with pytest.raises(LeaseHeld) as held:  # another worker may still be on it: come back later
        asyncio.run(send_queued(api.workspace_id, message_id))
    assert 55 < held.value.retry_after <= 61
    with tenant_session(api.workspace_id) as s:
        s.execute(
            text("UPDATE message SET lease_expires_at = now() - interval '1 second' WHERE id IN (:a, :b)"),
            {"a": message_id, "b": mid_request},
        )
        s.commit()
    assert asyncio.run(send_queued(api.workspace_id, message_id)) == "sent"
    wait_until(lambda: [m for m in replies_to(graph, phone) if m["text"]["body"] == "Voltei!"])
    assert asyncio.run(send_queued(api.workspace_id, mid_request)) is None
    row = db(api, "SELECT status, in_flight, lease_owner, error FROM message WHERE id = :id", id=mid_request)[0]
    assert row[:3] == ("unknown", False, None) and "may have reached" in row[3]
    assert not [m for m in replies_to(graph, phone) if m["text"]["body"] == "Talvez já tenha ido"]


def test_a_nul_in_one_message_does_not_lose_the_other_leads_of_the_same_post(api, graph, channel):
    """PostgreSQL refuses \\u0000 in jsonb and text: one such message must not fail the whole POST
    (Meta would redeliver it forever) nor cost the other lead its message."""
    clean, hostile = lead(), lead()
    payload = meta.merge(
        meta.text_message("Oi, quero um orçamento", from_phone=clean, name="Bia"),
        meta.text_message("tem\u0000 desconto?\ud800", from_phone=hostile, name="Zé\u0000 Hacker"),
    )
    r = post(api, channel["path"], payload)
    assert r.status_code == 200, r.text
    assert r.json()["messages"] == 2
    rows = db(
        api,
        "SELECT c.phone, c.name, m.text FROM message m JOIN contact c ON c.id = "
        "(SELECT contact_id FROM conversation WHERE id = m.conversation_id) WHERE m.channel_id = :ch "
        "AND m.direction = 'inbound' AND c.phone IN (:a, :b) ORDER BY c.phone = :b",
        ch=channel["id"],
        a="+" + clean,
        b="+" + hostile,
    )
    assert [(p[1:], t) for p, _, t in rows] == [(clean, "Oi, quero um orçamento"), (hostile, "tem desconto?\ufffd")]
    assert rows[1][1] == "Zé Hacker"
    raw = db(api, "SELECT body FROM webhook_event WHERE channel_id = :c", c=channel["id"])
    assert any(b"\\u0000" in bytes(b) for (b,) in raw)  # the raw event keeps the bytes as they came


def test_a_send_that_times_out_after_graph_got_it_is_unknown_and_not_sent_again(
    api, graph, channel, worker, monkeypatch, fresh_settings
):
    """The request reached Graph and the answer never came in time: Meta may have delivered it, so
    repeating it could reach the lead twice. The message shows as unknown with the reason, once."""
    from runtime.config import get_settings

    monkeypatch.setenv("SEND_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    phone = lead()
    wait_until(queue_is_idle)  # the delay below is for our send, not an earlier test's
    graph.delay_next(3)
    assert post(api, channel["path"], meta.text_message("Oi", from_phone=phone)).status_code == 200
    rows = lambda: db(  # noqa: E731
        api,
        "SELECT m.status, m.error, m.attempts FROM message m JOIN conversation c ON c.id = m.conversation_id "
        "JOIN contact p ON p.id = c.contact_id WHERE p.phone = :p AND m.direction = 'outbound'",
        p="+" + phone,
    )
    wait_until(lambda: rows() and rows()[0][0] not in ("queued", "sending"), timeout=20)
    time.sleep(1)
    status, error, attempts = rows()[0]
    assert (status, attempts) == ("unknown", 1) and "timeout" in error, [
        ((r.json or {}).get("to"), r.status_code) for r in graph.sent[-6:]
    ] + [phone]
    assert len([r for r in graph.sent if (r.json or {}).get("to") == phone]) == 1


def test_two_numbers_on_one_app_each_channel_keeps_only_its_own_events(api, graph):
    """Meta posts every number of an app to the app's callback URL unless a number has its own: an
    event for number B that reaches channel A's URL is B's, not A's (A would answer from A)."""
    number_b = "209876543210987"

    def create(name: str, phone_number_id: str) -> dict:
        r = api.post(
            "/api/v1/channels",
            json={
                "provider": "cloud_api",
                "name": name,
                "api_base_url": graph.base_url,
                "credentials": {
                    "phone_number_id": phone_number_id,
                    "access_token": graph.access_token,
                    "app_secret": APP_SECRET,  # one Meta app, one secret, two numbers
                    "verify_token": VERIFY,
                },
            },
        )
        assert r.status_code == 201, r.text
        return {**r.json(), "path": webhook_path(r.json()["webhook_url"])}

    a = create("Loja - número A", graph.phone_number_id)
    b = create("Loja - número B", number_b)
    phone = lead()
    for_b = meta.text_message("Oi, número B!", from_phone=phone, phone_number_id=number_b)
    r = post(api, a["path"], for_b)
    assert r.status_code == 200 and r.json()["messages"] == 0, r.text
    for table in ("message", "webhook_event"):
        assert db(api, f"SELECT count(*) FROM {table}") == [(0,)]  # stored nowhere: not as A, not as B
    assert db(api, "SELECT count(*) FROM contact") == [(0,)]

    # A status for B's message at A's URL moves nothing, even with the same wamid on A's side.
    assert post(api, a["path"], meta.text_message("Oi, A", from_phone=phone)).json()["messages"] == 1
    with tenant_session(api.workspace_id) as s:
        conv = s.exec(select(Conversation).where(Conversation.channel_id == a["id"])).one()
        s.execute(
            text(
                "INSERT INTO message (id, workspace_id, conversation_id, channel_id, direction, author, kind, text, "
                "provider_message_id, status, attempts, created_at, media, details) VALUES (gen_random_uuid(), :w, "
                ":c, :ch, 'outbound', 'bot', 'text', 'Olá', 'wamid.SHARED', 'sent', 1, now(), '{}', '{}')"
            ),
            {"w": api.workspace_id, "c": conv.id, "ch": a["id"]},
        )
        s.commit()
    r = post(api, a["path"], meta.status("wamid.SHARED", "read", recipient=phone, phone_number_id=number_b))
    assert r.status_code == 200 and r.json()["statuses"] == 0
    assert db(api, "SELECT status FROM message WHERE provider_message_id = 'wamid.SHARED'") == [("sent",)]

    # Each number's own events, at its own URL, are its own.
    assert post(api, b["path"], for_b).json()["messages"] == 1
    assert db(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=b["id"]) == [(1,)]


def test_the_sweep_settles_sends_left_sending_long_after_their_lease(api, graph, channel):
    """A send whose job is gone (held as failed after its attempts) would stay 'sending' forever:
    the periodic sweep queues it again when no request was under way, else marks it unknown."""
    from runtime.pipeline.outbound import queue_message, sweep_stale_sends

    post(api, channel["path"], meta.text_message("oi", from_phone=lead()))
    wait_until(lambda: db(api, "SELECT id FROM conversation WHERE channel_id = :c", c=channel["id"]))
    with tenant_session(api.workspace_id) as s:
        conv = s.exec(select(Conversation).where(Conversation.channel_id == uuid.UUID(channel["id"]))).one()
        idle, mid_request, fresh = (queue_message(s, conv, text=t).id for t in ("a", "b", "c"))
        s.execute(
            text(
                "UPDATE message SET status = 'sending', lease_owner = 'morto:1', in_flight = (id = :b), "
                "lease_expires_at = now() - CASE WHEN id = :c THEN interval '1 minute' ELSE interval '10 minutes' END "
                "WHERE id IN (:a, :b, :c)"
            ),
            {"a": idle, "b": mid_request, "c": fresh},
        )
        s.execute(text("DELETE FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE :p"), {"p": f"%{idle}%"})
        s.commit()
    sweep_stale_sends({})
    rows = dict(db(api, "SELECT id, status FROM message WHERE id IN (:a, :b, :c)", a=idle, b=mid_request, c=fresh))
    assert rows == {idle: "queued", mid_request: "unknown", fresh: "sending"}  # fresh: its job may still come
    jobs = db(api, "SELECT count(*) FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE :p", p=f"%{idle}%")
    assert jobs == [(1,)]  # queued again with a new send job


def test_an_absurdly_long_message_id_is_stored_once_not_a_500(api, channel):
    """provider_message_id is varchar(255): a longer id (Meta's are ~60 characters; a fuzzer's or a
    broken gateway's are not) is kept as its SHA-256, so the message is stored and a redelivery is
    still recognized."""
    long_id = "wamid." + "x" * 400
    payload = meta.text_message("Oi, tudo bem?", from_phone=lead(), message_id=long_id)
    first = post(api, channel["path"], payload)
    assert first.status_code == 200 and first.json()["messages"] == 1, first.text
    again = post(api, channel["path"], payload)
    assert again.status_code == 200 and again.json()["messages"] == 0
    rows = db(api, "SELECT provider_message_id FROM message WHERE channel_id = :c", c=channel["id"])
    assert len(rows) == 1 and rows[0][0].startswith("sha256:") and len(rows[0][0]) <= 255
