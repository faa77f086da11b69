"""The sellers' inbox services against the real service, worker and a fake Graph server."""

from __future__ import annotations

import time

import pytest

from db.models import AgentMode, Conversation, LearnedAnswer, Suggestion
from db.tenancy import tenant_session
from runtime.access import Forbidden, UserError
from runtime.panel import inbox
from tests.conftest import wait_until

from .conftest import AUTO_REPLY, new_lead


def _set(shop, conversation_id: str, **values) -> None:
    with tenant_session(shop.workspace_id) as s:
        conv = s.get(Conversation, conversation_id)
        for k, v in values.items():
            setattr(conv, k, v)
        s.add(conv)
        s.commit()


def _outcomes(shop, conversation_id: str) -> list[str]:
    return [
        r[0]
        for r in shop.sql(
            "SELECT outcome FROM conversation_turn WHERE conversation_id = :c ORDER BY created_at", c=conversation_id
        )
    ]


def test_a_lead_message_shows_in_the_queue_with_unread_count_and_preview(shop, worker):
    phone = new_lead()
    shop.lead_says("Oi, vocês fazem entrega no sábado?", phone, name="Joana")
    cid = shop.conversation_of(phone)
    wait_until(lambda: shop.sent_to(phone))  # the bot's auto reply went out

    rows = {c["id"]: c for c in inbox.conversations(shop.seller, "nao_atribuidas")}
    assert cid in rows
    row = rows[cid]
    assert row["name"] == "Joana" and row["phone"] == "+" + phone and row["provider"] == "cloud_api"
    assert row["unread"] == 1 and row["preview"] == AUTO_REPLY
    assert inbox.view_counts(shop.seller)["nao_atribuidas"] >= 1

    view = inbox.thread(shop.seller, cid)
    assert [(m["author"], m["text"]) for m in view["messages"]] == [
        ("lead", "Oi, vocês fazem entrega no sábado?"),
        ("agent", AUTO_REPLY),
    ]
    window = view["window"]
    assert window["has_window"] and window["open"] and window["closes_at"]
    # Shown in the company's time zone (São Paulo, UTC-3), 24 hours after the lead wrote.
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    closes = datetime.fromisoformat(window["closes_at"])
    assert abs(closes - datetime.now(closes.tzinfo) - timedelta(hours=24)) < timedelta(minutes=1)
    assert window["closes_label"] == closes.astimezone(ZoneInfo("America/Sao_Paulo")).strftime("%d/%m %H:%M")
    # Read by this seller only: the other seller still sees it unread.
    assert {c["id"]: c["unread"] for c in inbox.conversations(shop.seller)}[cid] == 0
    assert {c["id"]: c["unread"] for c in inbox.conversations(shop.seller2)}[cid] == 1

    assert [c["id"] for c in inbox.conversations(shop.owner, search="joana")] == [cid]
    assert [c["id"] for c in inbox.conversations(shop.owner, search=phone[-6:])] == [cid]
    assert inbox.conversations(shop.owner, search="ninguém com esse nome") == []
    with pytest.raises(UserError):
        inbox.conversations(shop.owner, "qualquer")


def test_replying_claims_the_conversation_and_hides_it_from_other_sellers(shop, worker):
    phone = new_lead()
    shop.lead_says("Quero um orçamento", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: shop.sent_to(phone))

    assert inbox.send_text(shop.seller, cid, "Oi! Aqui é o Bruno, te ajudo com o orçamento.") == {
        "message_id": inbox.thread(shop.seller, cid)["messages"][-1]["id"],
        "learned": False,
    }
    wait_until(lambda: len(shop.sent_to(phone)) == 2)
    assert shop.sent_to(phone)[-1]["text"]["body"] == "Oi! Aqui é o Bruno, te ajudo com o orçamento."
    last = inbox.thread(shop.seller, cid)["messages"][-1]
    assert last["author"] == "seller" and last["author_name"] == "Bruno Vendas"
    wait_until(lambda: inbox.thread(shop.seller, cid)["messages"][-1]["status"] == "sent")

    assert cid in [c["id"] for c in inbox.conversations(shop.seller, "minhas")]
    assert cid not in [c["id"] for c in inbox.conversations(shop.seller2)]
    assert cid in [c["id"] for c in inbox.conversations(shop.owner)]  # managers see everything
    for call in (
        lambda: inbox.thread(shop.seller2, cid),
        lambda: inbox.send_text(shop.seller2, cid, "intrometido"),
        lambda: inbox.take_over(shop.seller2, cid),
        lambda: inbox.update_lead(shop.seller2, cid, {"notes": "x"}),
    ):
        with pytest.raises(Forbidden):
            call()

    with pytest.raises(UserError, match="Escreva"):
        inbox.send_text(shop.seller, cid, "   ")
    with pytest.raises(UserError, match="limite"):
        inbox.send_text(shop.seller, cid, "a" * 5000)


def test_takeover_silences_the_bot_and_handing_back_resumes_it(shop, worker):
    phone = new_lead()
    shop.lead_says("Oi", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)

    inbox.take_over(shop.seller, cid)
    view = inbox.thread(shop.seller, cid)
    assert view["taken_over"] and view["mode"] == "off" and view["assigned_name"] == "Bruno Vendas"
    shop.lead_says("Tem desconto à vista?", phone)
    wait_until(lambda: "skipped: bot paused in this conversation" in _outcomes(shop, cid))
    time.sleep(0.5)
    assert len(shop.sent_to(phone)) == 1  # the bot stayed silent

    inbox.hand_back(shop.seller, cid)
    assert not inbox.thread(shop.seller, cid)["taken_over"]
    shop.lead_says("Alguém aí?", phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 2)
    assert shop.sent_to(phone)[-1]["text"]["body"] == AUTO_REPLY
    actions = shop.sql("SELECT action FROM audit_log WHERE target_id = :c ORDER BY created_at", c=cid)
    assert [a[0] for a in actions] == ["inbox.take_over", "inbox.hand_back"]


def test_copilot_suggestions_can_be_accepted_edited_or_dismissed_and_are_recorded(shop, worker):
    phone = new_lead()
    shop.lead_says("Oi", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)
    _set(shop, cid, mode_override=AgentMode.copilot)

    def suggestion():
        return inbox.thread(shop.seller, cid)["suggestion"]

    shop.lead_says("Qual o horário de vocês?", phone)
    first = wait_until(suggestion)
    assert first["draft"] == AUTO_REPLY
    assert len(shop.sent_to(phone)) == 1  # copilot: nothing goes out on its own
    assert inbox.decide_suggestion(shop.seller, cid, first["id"], "accept") == {"status": "accepted"}
    wait_until(lambda: len(shop.sent_to(phone)) == 2)
    assert shop.sent_to(phone)[-1]["text"]["body"] == AUTO_REPLY
    with pytest.raises(UserError, match="já foi tratada"):
        inbox.decide_suggestion(shop.seller, cid, first["id"], "accept")

    shop.lead_says("E no domingo?", phone)
    second = wait_until(lambda: (s := suggestion()) and s["id"] != first["id"] and s)
    with pytest.raises(UserError):
        inbox.decide_suggestion(shop.seller, cid, second["id"], "edit", "  ")
    inbox.decide_suggestion(shop.seller, cid, second["id"], "edit", "No domingo abrimos das 9h às 13h.")
    wait_until(lambda: len(shop.sent_to(phone)) == 3)
    assert shop.sent_to(phone)[-1]["text"]["body"] == "No domingo abrimos das 9h às 13h."

    shop.lead_says("Obrigado", phone)
    third = wait_until(lambda: (s := suggestion()) and s["id"] not in (first["id"], second["id"]) and s)
    inbox.decide_suggestion(shop.seller, cid, third["id"], "reject")
    assert suggestion() is None
    time.sleep(0.3)
    assert len(shop.sent_to(phone)) == 3

    with tenant_session(shop.workspace_id) as s:
        decided = {x.id.hex: x for x in s.query(Suggestion).filter(Suggestion.conversation_id == cid)}
        statuses = sorted((x.status, x.final_text, x.decided_by_user_id) for x in decided.values())
    assert statuses == sorted(
        [
            ("accepted", AUTO_REPLY, shop.seller.user_id),
            ("edited", "No domingo abrimos das 9h às 13h.", shop.seller.user_id),
            ("rejected", None, shop.seller.user_id),
        ]
    )


def test_the_answer_to_a_handoff_is_learned_and_the_bot_resumes(shop, worker):
    phone = new_lead()
    shop.lead_says("Vocês parcelam em 12x sem juros?", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)
    from db.models import utcnow

    _set(shop, cid, handoff_requested_at=utcnow(), handoff_question="Vocês parcelam em 12x sem juros?")
    row = {c["id"]: c for c in inbox.conversations(shop.seller, "aguardando")}[cid]
    assert row["waiting_human"]
    assert inbox.conversations(shop.seller)[0]["id"] == cid  # handoffs come first
    assert inbox.thread(shop.seller, cid)["handoff"]["question"] == "Vocês parcelam em 12x sem juros?"

    assert inbox.send_text(shop.seller, cid, "Sim, em até 12x sem juros no cartão.")["learned"] is True
    with tenant_session(shop.workspace_id) as s:
        learned = s.query(LearnedAnswer).filter(LearnedAnswer.source_conversation_id == cid).one()
        assert learned.answer == "Sim, em até 12x sem juros no cartão."
        assert learned.created_by_user_id == shop.seller.user_id
    assert not inbox.thread(shop.seller, cid)["handoff"]["waiting"]


def test_outside_the_window_only_a_template_goes_out(shop, worker):
    phone = new_lead()
    shop.lead_says("oi, ainda tem?", phone, timestamp=int(time.time()) - 25 * 3600)
    cid = shop.conversation_of(phone)
    wait_until(lambda: _outcomes(shop, cid))
    view = inbox.thread(shop.seller, cid)
    assert view["window"]["has_window"] and not view["window"]["open"]
    with pytest.raises(UserError, match="24 horas"):
        inbox.send_text(shop.seller, cid, "Oi! Temos sim.")
    with pytest.raises(UserError, match="modelo"):
        inbox.send_template(shop.seller, cid, "  ")
    inbox.send_template(shop.seller, cid, "retomar_contato", "pt_BR", ["Ana"])
    wait_until(lambda: shop.sent_to(phone))
    (sent,) = shop.sent_to(phone)
    assert sent["type"] == "template" and sent["template"]["name"] == "retomar_contato"
    assert inbox.thread(shop.seller, cid)["messages"][-1]["template"] == "retomar_contato"


def test_a_failed_send_shows_its_error_and_can_be_retried(shop, worker):
    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)
    shop.graph.fail_next(1, status=400, code=131026, message="Message undeliverable")
    inbox.send_text(shop.seller, cid, "Tudo bem?")
    failed = wait_until(lambda: (m := inbox.thread(shop.seller, cid)["messages"][-1])["status"] == "failed" and m)
    assert "131026" in failed["error"]
    with pytest.raises(UserError):
        inbox.retry_message(shop.seller, cid, inbox.thread(shop.seller, cid)["messages"][0]["id"])  # inbound
    inbox.retry_message(shop.seller, cid, failed["id"])
    wait_until(lambda: inbox.thread(shop.seller, cid)["messages"][-1]["status"] == "sent")
    assert shop.sent_to(phone)[-1]["text"]["body"] == "Tudo bem?"


def test_files_go_out_and_only_allowed_users_can_download_them(shop, worker):
    phone = new_lead()
    shop.lead_says("Manda o catálogo?", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)
    pdf = b"%PDF-1.4\n% catalogo\n"
    assert inbox.send_file(shop.seller, cid, "catalogo.pdf", pdf, "Segue o catálogo")["kind"] == "document"
    wait_until(lambda: len(shop.sent_to(phone)) == 2)
    assert shop.sent_to(phone)[-1]["type"] == "document"
    msg = inbox.thread(shop.seller, cid)["messages"][-1]
    assert msg["media_url"] == f"/inbox-media/{msg['id']}" and msg["filename"] == "catalogo.pdf"
    assert inbox.media(shop.seller, msg["id"]) == (pdf, "application/pdf", "catalogo.pdf")
    with pytest.raises(Forbidden):
        inbox.media(shop.seller2, msg["id"])
    with pytest.raises(UserError, match="vazio"):
        inbox.send_file(shop.seller, cid, "nada.txt", b"")


def test_assigning_and_transferring(shop, worker):
    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)
    members = {m["name"]: m["id"] for m in inbox.team(shop.seller)}
    assert {"Bruno Vendas", "Carla Vendas", "Dona Maria"} <= set(members)

    inbox.assign(shop.seller, cid, members["Bruno Vendas"])
    inbox.assign(shop.seller, cid, members["Carla Vendas"])  # transfer
    assert cid not in [c["id"] for c in inbox.conversations(shop.seller)]
    assert cid in [c["id"] for c in inbox.conversations(shop.seller2, "minhas")]
    with pytest.raises(Forbidden):
        inbox.assign(shop.seller, cid, members["Bruno Vendas"])  # no longer theirs
    with pytest.raises(UserError, match="equipe"):
        inbox.assign(shop.owner, cid, "00000000-0000-0000-0000-000000000000")

    inbox.set_status(shop.seller2, cid, "closed")
    assert cid in [c["id"] for c in inbox.conversations(shop.seller2, "encerradas")]
    with pytest.raises(UserError, match="encerrada"):
        inbox.send_text(shop.seller2, cid, "oi")
    inbox.set_status(shop.seller2, cid, "open")


def test_the_lead_sidebar_is_editable_with_validation(shop, worker):
    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)
    lead = inbox.update_lead(
        shop.seller,
        cid,
        {
            "name": "Joana Prado",
            "email": "Joana@Example.com",
            "stage": "qualified",
            "score": "80",
            "notes": "Quer entrega no sábado",
            "tags": "vip, atacado,vip",
            "crm_url": "https://crm.example.com/leads/42",
            "fields": {"cidade": "Campinas"},
        },
    )
    assert lead["email"] == "joana@example.com" and lead["tags"] == ["atacado", "vip"] and lead["score"] == 80
    assert inbox.thread(shop.seller, cid)["lead"]["fields"]["cidade"] == "Campinas"
    for bad, message in (
        ({"email": "sem-arroba"}, "E-mail"),
        ({"stage": "inventado"}, "Etapa"),
        ({"score": "200"}, "pontuação"),
        ({"score": "muito"}, "pontuação"),
        ({"crm_url": "javascript:alert(1)"}, "CRM"),
    ):
        with pytest.raises(UserError, match=message):
            inbox.update_lead(shop.seller, cid, bad)
    assert inbox.thread(shop.seller, cid)["lead"]["stage"] == "qualified"  # nothing half-saved


def test_quick_replies_are_managed_by_managers_and_used_by_sellers(shop):
    saved = inbox.save_quick_reply(shop.owner, "Preco", "Nossos planos começam em R$ 99/mês.")
    assert saved["shortcut"] == "/preco"
    assert [q["shortcut"] for q in inbox.quick_replies(shop.seller)] == ["/preco"]
    with pytest.raises(UserError):
        inbox.save_quick_reply(shop.owner, "dois termos", "x")
    inbox.delete_quick_reply(shop.owner, saved["id"])
    assert inbox.quick_replies(shop.seller) == []


def test_the_owner_sees_who_answered_what_and_how_fast(shop, worker):
    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)
    inbox.take_over(shop.seller, cid)
    inbox.send_text(shop.seller, cid, "Olá, sou o Bruno")
    report = inbox.activity(shop.owner)
    (bruno,) = [r for r in report["sellers"] if r["name"] == "Bruno Vendas"]
    assert bruno["messages"] == 1 and bruno["conversations"] == 1
    assert bruno["median_response_s"] is not None and 0 <= bruno["median_response_s"] < 60
    assert report["recent"][0]["text"] == "Olá, sou o Bruno" and report["recent"][0]["seller"] == "Bruno Vendas"
    with pytest.raises(Forbidden):
        inbox.activity(shop.seller)


def test_files_are_served_to_signed_in_users_who_may_see_the_conversation(shop, service, worker):
    import httpx

    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)
    inbox.send_file(shop.seller, cid, "foto.png", b"\x89PNG\r\n\x1a\nfake")
    msg = inbox.thread(shop.seller, cid)["messages"][-1]

    def client_for(email: str | None) -> httpx.Client:
        client = httpx.Client(base_url=service, timeout=30)
        if email:
            r = client.post("/auth/login", data={"email": email, "password": "senha-forte-123"})
            assert r.status_code == 303 and "/login" not in r.headers["location"], r.headers
        return client

    bruno, carla, anon = client_for(shop.seller.email), client_for(shop.seller2.email), client_for(None)
    try:
        ok = bruno.get(msg["media_url"])
        assert ok.status_code == 200 and ok.content == b"\x89PNG\r\n\x1a\nfake"
        assert ok.headers["content-type"] == "image/png" and "sandbox" in ok.headers["content-security-policy"]
        assert carla.get(msg["media_url"]).status_code == 404  # another seller's conversation
        assert anon.get(msg["media_url"]).status_code == 401
        assert bruno.get("/inbox-media/not-a-uuid").status_code == 422
    finally:
        for client in (bruno, carla, anon):
            client.close()


def test_a_recorded_voice_note_goes_out_as_ogg_opus(shop, worker, tmp_path):
    import subprocess

    phone = new_lead()
    shop.lead_says("pode mandar áudio?", phone)
    cid = shop.conversation_of(phone)
    wait_until(lambda: len(shop.sent_to(phone)) == 1)
    wav = tmp_path / "gravacao.wav"
    subprocess.run(["espeak-ng", "-v", "pt-br", "-w", str(wav), "Olá, aqui é o Bruno"], check=True)
    # Browsers record WebM/Opus or WAV: here a WAV, converted by the service.
    result = inbox.send_voice_note(shop.seller, cid, wav.read_bytes(), "audio/wav")
    wait_until(lambda: len(shop.sent_to(phone)) == 2)
    assert shop.sent_to(phone)[-1]["type"] == "audio"
    msg = inbox.thread(shop.seller, cid)["messages"][-1]
    assert msg["kind"] == "audio" and msg["author"] == "seller"
    data, mime, _ = inbox.media(shop.seller, msg["id"])
    assert data[:4] == b"OggS" and len(data) == result["bytes"] and mime == "audio/ogg"
    with pytest.raises(UserError, match="gravação"):
        inbox.send_voice_note(shop.seller, cid, b"not audio at all", "audio/webm")
