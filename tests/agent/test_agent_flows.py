"""The agent end to end on real parts: Cloud API webhook -> worker -> LangGraph turn (rules, learned
answers, retrieval, a scripted chat model with tools) -> reply sent to the fake Graph server."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import AIMessage
from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.agent.llm import use_chat_model
from runtime.auth.api_keys import create_api_key
from runtime.knowledge.documents import add_document, ingest_document
from tests.conftest import wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.chat_model import ScriptedChatModel
from tests.fakes.servers import serve_in_thread

COMPANY = Path(__file__).resolve().parent.parent / "data" / "company"
APP_SECRET = "segredo-do-app"


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def service(pg):
    from runtime.api import create_app

    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def model():
    scripted = ScriptedChatModel(replies=[])
    use_chat_model(lambda agent, settings: scripted)
    yield scripted
    use_chat_model(None)


@pytest.fixture
def shop(service, graph, make_workspace, worker):
    """A workspace with the sample clinic's knowledge, an agent and a Cloud API channel bound to it."""
    ws = make_workspace(f"Clínica {uuid.uuid4().hex[:4]}").workspace_id
    for name in ("sobre-nos.md", "tabela-de-precos.xlsx"):
        with tenant_session(ws) as s:
            doc = add_document(s, ws, filename=name, data=(COMPANY / name).read_bytes()).document.id
            s.commit()
        assert ingest_document(ws, doc) == "ready"
    key = create_api_key(ws, "t").key
    api = httpx.Client(base_url=service, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    agent = api.post(
        "/api/v1/agents",
        json={
            "name": "Sofia",
            "mode": "pilot",
            "llm": {"provider": "openai", "model": "scripted", "timeout_seconds": 1, "max_retries": 0},
            "persona": "Você é a Sofia, da Clínica Sorriso Feliz.",
            "settings": {
                "qualification": [
                    {"key": "need", "label": "Tratamento desejado"},
                    {"key": "timing", "label": "Quando quer começar"},
                ]
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
    ).json()
    api.ws = ws
    api.agent_id = agent.json()["id"]
    api.hook = channel["webhook_url"].removeprefix("http://testserver")
    yield api
    api.close()


def lead() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


def say(api, phone: str, words: str) -> None:
    body, headers = meta.signed(meta.text_message(words, from_phone=phone, name="Ana Souza"), APP_SECRET)
    assert api.post(api.hook, content=body, headers=headers).status_code == 200


def sent_to(graph, phone: str) -> list[str]:
    return [
        m.get("text", {}).get("body") or m.get("document", {}).get("filename")
        for m in graph.messages
        if m.get("to") == phone
    ]


def turns(api) -> list:
    with tenant_session(api.ws) as s:
        return s.execute(text("SELECT outcome, route, details FROM conversation_turn ORDER BY created_at")).all()


def usage(api) -> list[tuple]:
    with tenant_session(api.ws) as s:
        rows = s.execute(text("SELECT model, input_tokens, output_tokens FROM llm_usage ORDER BY created_at"))
        return [tuple(r) for r in rows]


def contact(api, phone: str):
    with tenant_session(api.ws) as s:
        return s.execute(
            text("SELECT fields, opted_out_at, lead_type FROM contact WHERE phone = :p"), {"p": "+" + phone}
        ).one()


def test_a_grounded_cited_qualified_reply_over_two_turns(shop, graph, model):
    phone = lead()
    model.add(
        AIMessage("", tool_calls=[{"name": "update_lead", "args": {"fields": {"need": "clareamento"}}, "id": None}]),
        "Temos estacionamento conveniado na Rua das Acácias [1]. E para quando você pensa no clareamento?",
    )
    say(shop, phone, "Oi! Quero fazer clareamento, vcs tem estacionamento?")
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert sent_to(graph, phone) == [
        "Temos estacionamento conveniado na Rua das Acácias [1]. E para quando você pensa no clareamento?"
    ]
    prompt = model.system_prompt(0)
    assert "CONHECIMENTO" in prompt and "sobre-nos.md" in prompt and "timing" in prompt
    assert "Nunca invente" in prompt and "Recuse com educação" in prompt and "idioma do cliente" in prompt
    ((outcome, route, details),) = turns(shop)
    assert (outcome, route) == ("replied", "llm")
    assert details["sources"] and details["sources"][0]["filename"] == "sobre-nos.md"
    assert details["tokens"]["input"] > 0 and details["tool_calls"][0]["name"] == "update_lead"
    assert details["model"] == "openai:scripted"  # prices the tokens on the dashboard
    assert usage(shop) == [("openai:scripted", details["tokens"]["input"], details["tokens"]["output"])]
    assert contact(shop, phone).fields == {"need": "clareamento"}

    model.add(
        AIMessage(
            "",
            tool_calls=[
                {
                    "name": "update_lead",
                    "args": {"fields": {"timing": "semana que vem"}, "stage": "qualificado", "score": 80},
                    "id": None,
                }
            ],
        ),
        "Perfeito! Vou te passar os horários livres da semana que vem.",
    )
    say(shop, phone, "semana que vem")
    wait_until(lambda: len(sent_to(graph, phone)) == 2, timeout=20)
    assert contact(shop, phone).fields == {"need": "clareamento", "timing": "semana que vem"}
    with tenant_session(shop.ws) as s:  # "qualificado" from the model is stored as the panel's key
        assert s.execute(text("SELECT stage FROM contact WHERE phone = :p"), {"p": "+" + phone}).scalar() == "qualified"
    # The second call saw the first exchange (history checkpointed in PostgreSQL).
    contents = " ".join(str(m.content) for m in model.calls[-2])
    assert "Quero fazer clareamento" in contents and "Rua das Acácias" in contents


def test_handoff_then_the_seller_answer_is_learned_for_the_next_lead(shop, graph, model):
    first, second = lead(), lead()
    model.add(
        AIMessage(
            "",
            tool_calls=[
                {
                    "name": "handoff_to_human",
                    "args": {"reason": "não sei", "question": "Vocês atendem cachorro?"},
                    "id": None,
                }
            ],
        )
    )
    say(shop, first, "Vocês atendem cachorro?")
    wait_until(lambda: sent_to(graph, first), timeout=20)
    assert "equipe" in sent_to(graph, first)[0]  # the lead is told a human will answer
    conv = shop.get("/api/v1/conversations").json()
    (pending,) = [c for c in conv if c["handoff_requested_at"]]
    assert pending["handoff_question"] == "Vocês atendem cachorro?"

    say(shop, first, "alô?")  # the bot stays paused while waiting for the human
    wait_until(lambda: any("waiting for a human" in t.outcome for t in turns(shop)), timeout=20)
    assert len(sent_to(graph, first)) == 1

    r = shop.post(
        f"/api/v1/conversations/{pending['id']}/messages", json={"text": "Não, somos uma clínica só para pessoas. 🙂"}
    )
    assert r.status_code == 202, r.text
    wait_until(lambda: len(sent_to(graph, first)) == 2, timeout=20)
    learned = shop.get("/api/v1/learned-answers").json()
    assert [(a["question"], a["status"]) for a in learned] == [("Vocês atendem cachorro?", "approved")]
    assert not [c for c in shop.get("/api/v1/conversations").json() if c["handoff_requested_at"]]

    calls_before = len(model.calls)
    say(shop, second, "voces atendem cachorro")
    wait_until(lambda: sent_to(graph, second), timeout=20)
    assert sent_to(graph, second) == ["Não, somos uma clínica só para pessoas. 🙂"]
    assert len(model.calls) == calls_before  # no model call: answered from what the seller taught
    assert turns(shop)[-1].route == "learned"


def test_a_lead_asking_for_a_person_is_flagged_for_the_sellers(shop, graph, model):
    phone = lead()
    say(shop, phone, "quero falar com um atendente")
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert turns(shop)[-1].route == "rules" and not model.calls  # a built-in rule, no model call
    (pending,) = [c for c in shop.get("/api/v1/conversations").json() if c["handoff_requested_at"]]
    assert pending["handoff_question"] == "quero falar com um atendente"
    assert pending["handoff_reason"] == "regra: human"
    say(shop, phone, "alô?")  # the bot waits for the human
    wait_until(lambda: any("waiting for a human" in t.outcome for t in turns(shop)), timeout=20)
    assert len(sent_to(graph, phone)) == 1


def test_opt_out_stops_everything_after_one_confirmation(shop, graph, model):
    phone = lead()
    say(shop, phone, "parar")
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert len(sent_to(graph, phone)) == 1 and contact(shop, phone).opted_out_at is not None
    say(shop, phone, "oi de novo")
    wait_until(lambda: any("opted out" in t.outcome for t in turns(shop)), timeout=20)
    assert len(sent_to(graph, phone)) == 1 and model.calls == []


def test_copilot_suggests_and_sends_nothing_until_accepted(shop, graph, model):
    shop.patch(f"/api/v1/agents/{shop.agent_id}", json={"mode": "copilot"})
    phone = lead()
    model.add("A limpeza custa R$ 180,00 [1].")
    say(shop, phone, "qnto custa a limpeza?")
    conv_id = wait_until(lambda: [c["id"] for c in shop.get("/api/v1/conversations").json()], timeout=20)[0]
    suggestions = wait_until(lambda: shop.get(f"/api/v1/conversations/{conv_id}/suggestions").json(), timeout=20)
    assert suggestions[0]["draft"] == "A limpeza custa R$ 180,00 [1]." and suggestions[0]["status"] == "pending"
    assert suggestions[0]["next_step"]
    assert sent_to(graph, phone) == []
    r = shop.post(f"/api/v1/conversations/{conv_id}/suggestions/{suggestions[0]['id']}", json={"action": "accept"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert sent_to(graph, phone) == ["A limpeza custa R$ 180,00 [1]."]
    again = shop.post(f"/api/v1/conversations/{conv_id}/suggestions/{suggestions[0]['id']}", json={"action": "reject"})
    assert again.status_code == 409


def test_when_the_model_times_out_the_lead_gets_a_handoff_not_silence(shop, graph, model):
    phone = lead()
    model.stall_next(3.0)
    say(shop, phone, "Vocês fazem implante?")
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert "equipe" in sent_to(graph, phone)[0]
    assert turns(shop)[-1].route == "handoff"
    conv = [c for c in shop.get("/api/v1/conversations").json() if c["handoff_requested_at"]]
    assert conv and "indisponível" in conv[0]["handoff_reason"]


def test_without_an_api_key_the_lead_gets_a_handoff_not_silence(shop, graph):
    """The agent's provider needs a key it does not have: the model can't be built, the turn hands
    off with the reason instead of failing."""
    phone = lead()
    say(shop, phone, "Vocês fazem implante?")
    wait_until(lambda: sent_to(graph, phone), timeout=20)
    assert "equipe" in sent_to(graph, phone)[0]
    assert turns(shop)[-1].route == "handoff"
    conv = [c for c in shop.get("/api/v1/conversations").json() if c["handoff_requested_at"]]
    assert conv and "chave de API" in conv[0]["handoff_reason"]


def test_without_a_model_the_agent_answers_extractively_or_hands_off(shop, graph):
    use_chat_model(lambda agent, settings: None)  # provider "none"
    try:
        phone, other = lead(), lead()
        say(shop, phone, "tem estacionamento?")
        wait_until(lambda: sent_to(graph, phone), timeout=20)
        reply = sent_to(graph, phone)[0]
        assert "estacionamento" in reply.lower() and reply.endswith("[1]")
        say(shop, other, "vocês vendem bicicleta elétrica?")
        wait_until(lambda: sent_to(graph, other), timeout=20)
        assert "equipe" in sent_to(graph, other)[0]
    finally:
        use_chat_model(None)


def test_the_real_openai_provider_from_webhook_to_outbound_send(shop, graph):
    """No injected model: the agent's LLM settings build a real ChatOpenAI that talks HTTP to a
    local server speaking the chat-completions format, tool call included."""
    from tests.fakes.openai_chat import FakeOpenAIChat, tool_call, tool_results

    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        r = shop.patch(
            f"/api/v1/agents/{shop.agent_id}",
            json={
                "llm": {
                    "provider": "openai",
                    "model": "gpt-4o-mini",
                    "base_url": f"{url}/v1",
                    "api_key": fake.api_key,
                    "timeout_seconds": 10,
                    "max_retries": 1,
                }
            },
        )
        assert r.status_code == 200 and r.json()["llm"]["api_key_set"] is True
        assert fake.api_key not in r.text
        fake.script(
            tool_call("update_lead", {"fields": {"need": "limpeza"}}),
            "A limpeza custa R$ 180,00 [1]. Quer agendar?",
        )
        phone = lead()
        say(shop, phone, "quanto custa uma limpeza?")
        wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert sent_to(graph, phone) == ["A limpeza custa R$ 180,00 [1]. Quer agendar?"]
    first, second = fake.bodies()[:2]
    assert first["model"] == "gpt-4o-mini" and {t["function"]["name"] for t in first["tools"]} >= {"update_lead"}
    assert "tabela-de-precos.xlsx" in first["messages"][0]["content"]  # the knowledge went to the model
    assert list(tool_results(second).values()) == ["ok"]  # our tool ran and its result went back
    assert contact(shop, phone).fields == {"need": "limpeza"}
    details = turns(shop)[-1].details
    assert details["tokens"]["input"] > 0 and details["route"] == "llm"
    assert details["model"] == "openai:gpt-4o-mini"
    assert usage(shop)[-1] == ("openai:gpt-4o-mini", details["tokens"]["input"], details["tokens"]["output"])


def test_handoff_notifies_the_seller_on_whatsapp_inside_the_window(shop, graph, model):
    seller, customer = lead(), lead()
    shop.patch(f"/api/v1/agents/{shop.agent_id}", json={"settings": {"handoff": {"notify_seller_phone": seller}}})
    say(shop, seller, "oi")  # the seller's own number has written: the 24-hour window is open for it
    wait_until(lambda: sent_to(graph, seller), timeout=20)
    model.add(
        AIMessage(
            "",
            tool_calls=[
                {"name": "handoff_to_human", "args": {"reason": "?", "question": "Tem vaga hoje?"}, "id": None}
            ],
        )
    )
    say(shop, customer, "Tem vaga hoje?")
    wait_until(lambda: len(sent_to(graph, seller)) == 2, timeout=20)
    assert (
        "precisa de atendimento humano" in sent_to(graph, seller)[1] and "Tem vaga hoje?" in sent_to(graph, seller)[1]
    )
    assert turns(shop)[-1].details["seller_notification"] == "sent"


def test_learned_answers_can_require_the_owners_approval(shop, graph, model):
    shop.patch(f"/api/v1/agents/{shop.agent_id}", json={"settings": {"learned_answers": {"require_approval": True}}})
    first, second = lead(), lead()
    model.add(
        AIMessage(
            "",
            tool_calls=[
                {"name": "handoff_to_human", "args": {"reason": "?", "question": "Aceitam cheque?"}, "id": None}
            ],
        )
    )
    say(shop, first, "Aceitam cheque?")
    conv = wait_until(lambda: [c for c in shop.get("/api/v1/conversations").json() if c["handoff_requested_at"]], 20)
    shop.post(f"/api/v1/conversations/{conv[0]['id']}/messages", json={"text": "Não aceitamos cheque."})
    (pending,) = shop.get("/api/v1/learned-answers").json()
    assert pending["status"] == "pending"
    model.add(
        AIMessage(
            "",
            tool_calls=[
                {"name": "handoff_to_human", "args": {"reason": "?", "question": "aceitam cheque"}, "id": None}
            ],
        )
    )
    say(shop, second, "aceitam cheque")  # not approved yet: the model is asked (and hands off)
    wait_until(lambda: sent_to(graph, second), timeout=20)
    assert turns(shop)[-1].route == "handoff"
    r = shop.patch(f"/api/v1/learned-answers/{pending['id']}", json={"status": "approved"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    third = lead()
    say(shop, third, "Vocês aceitam cheque?")
    wait_until(lambda: sent_to(graph, third), timeout=20)
    assert sent_to(graph, third) == ["Não aceitamos cheque."]


def send_media(api, phone: str, kind: str, media_id: str, mime: str, filename: str | None = None) -> None:
    payload = meta.media_message(kind, media_id, mime, filename=filename, from_phone=phone, name="Ana Souza")
    body, headers = meta.signed(payload, APP_SECRET)
    assert api.post(api.hook, content=body, headers=headers).status_code == 200


def test_an_image_and_a_pdf_are_read_and_answered(shop, graph, model):
    phone = lead()
    png = graph.add_media((COMPANY / "horarios.png").read_bytes(), "image/png")
    model.add(lambda messages: "Vi sua foto: no sábado atendemos das 8h às 13h [1].")
    send_media(shop, phone, "image", png, "image/png")
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    question = str(model.calls[-1][-1].content)
    assert "[imagem do cliente]" in question and "Sábado" in question  # the OCR text reached the agent
    pdf = graph.add_media((COMPANY / "politicas-e-procedimentos.pdf").read_bytes(), "application/pdf")
    model.add("Recebi o PDF, obrigado! [1]")
    send_media(shop, phone, "document", pdf, "application/pdf", filename="politicas.pdf")
    wait_until(lambda: len(sent_to(graph, phone)) == 2, timeout=30)
    assert "[documento do cliente]" in str(model.calls[-1][-1].content)
    with tenant_session(shop.ws) as s:
        stored = s.execute(
            text("SELECT media->>'status', media->>'storage_key' FROM message WHERE kind IN ('image', 'document')")
        ).all()
    assert [st for st, _ in stored] == ["ok", "ok"] and all(key for _, key in stored)


def test_unreadable_media_gets_an_honest_reply_and_the_conversation_goes_on(shop, graph, model):
    phone = lead()
    broken = graph.add_media(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")
    send_media(shop, phone, "image", broken, "image/png")
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert sent_to(graph, phone) == [
        "Não consegui ver direito a imagem 😕 Pode mandar de novo ou escrever o que precisa?"
    ]
    assert model.calls == []  # nothing was guessed
    model.add("Claro! A limpeza custa R$ 180,00 [1].")
    say(shop, phone, "quanto custa a limpeza?")
    wait_until(lambda: len(sent_to(graph, phone)) == 2, timeout=20)


def test_owner_registers_a_cloned_voice_and_replies_go_out_as_voice_notes(shop, graph, model, monkeypatch):
    import subprocess

    from runtime.config import get_settings
    from runtime.media.audio import probe
    from tests.fakes.elevenlabs import FakeElevenLabs

    eleven = FakeElevenLabs()
    with serve_in_thread(eleven.app()) as url:
        monkeypatch.setenv("TTS_PROVIDER", "elevenlabs")
        monkeypatch.setenv("ELEVENLABS_API_KEY", eleven.api_key)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", url)
        get_settings.cache_clear()
        try:
            sample = subprocess.run(
                ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=180:duration=75", "-f", "mp3", "-"],
                capture_output=True,
                check=True,
            ).stdout
            r = shop.post(
                f"/api/v1/agents/{shop.agent_id}/voice",
                files={"sample": ("dona-maria.mp3", sample, "audio/mpeg")},
                data={"name": "Dona Maria", "replies": "always"},
            )
            assert r.status_code == 200, r.text
            voice = r.json()["settings"]["voice"]
            assert voice["voice_id"] in eleven.voices and voice["replies"] == "always"
            short = shop.post(
                f"/api/v1/agents/{shop.agent_id}/voice",
                files={"sample": ("curta.mp3", sample[: len(sample) // 8], "audio/mpeg")},
                data={"name": "Curta"},
            )
            assert short.status_code == 422 and "minuto" in short.json()["detail"]

            phone = lead()
            model.add("A limpeza custa R$ 180,00 [1].")
            say(shop, phone, "quanto custa a limpeza?")
            wait_until(lambda: [m for m in graph.messages if m.get("to") == phone], timeout=30)
        finally:
            get_settings.cache_clear()
    (sent,) = [m for m in graph.messages if m.get("to") == phone]
    assert sent["type"] == "audio"
    (upload,) = [r for r in graph.sent if r.kind == "upload"][-1:]
    _, mime, audio = upload.files["file"]
    assert mime.startswith("audio/ogg")
    info = probe(audio)
    assert (info.container, info.codec, info.channels, info.sample_rate) == ("ogg", "opus", 1, 48000)
    assert eleven.tts_requests[-1]["json"]["text"] == "A limpeza custa R$ 180,00."  # citations are not spoken
    assert eleven.tts_requests[-1]["path"].endswith(voice["voice_id"])
    with tenant_session(shop.ws) as s:
        kind, body = s.execute(text("SELECT kind, text FROM message WHERE direction = 'outbound'")).one()
    assert (kind, body) == ("audio", "A limpeza custa R$ 180,00 [1].")  # the text stays for the inbox


def test_a_voice_note_is_transcribed_and_answered_with_a_voice_note(shop, graph, model, monkeypatch, tmp_path):
    """Voice note webhook -> real faster-whisper (packaged base model) -> agent -> OGG/Opus reply."""
    import subprocess

    from runtime.config import get_settings
    from runtime.media.audio import probe
    from tests.media.whisper_model import whisper_base_dir

    wav, ogg = tmp_path / "clip.wav", tmp_path / "clip.ogg"
    subprocess.run(
        ["espeak-ng", "-v", "pt-br", "-s", "125", "-w", str(wav), "Bom dia, qual é o preço da limpeza?"], check=True
    )
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            "-ac",
            "1",
            "-ar",
            "48000",
            "-application",
            "voip",
            str(ogg),
        ],
        check=True,
    )
    monkeypatch.setenv("STT_PROVIDER", "whisper")
    monkeypatch.setenv("WHISPER_MODEL", str(whisper_base_dir()))
    monkeypatch.setenv("TTS_PROVIDER", "espeak")
    get_settings.cache_clear()
    try:
        shop.patch(f"/api/v1/agents/{shop.agent_id}", json={"settings": {"voice": {"replies": "when_lead_sent_audio"}}})
        phone = lead()
        note = graph.add_media(ogg.read_bytes(), "audio/ogg; codecs=opus")
        model.add("A limpeza custa R$ 180,00 [1].")
        payload = meta.media_message("audio", note, "audio/ogg; codecs=opus", voice=True, from_phone=phone)
        body, headers = meta.signed(payload, APP_SECRET)
        assert shop.post(shop.hook, content=body, headers=headers).status_code == 200
        wait_until(lambda: [m for m in graph.messages if m.get("to") == phone], timeout=60)
    finally:
        get_settings.cache_clear()
    heard = str(model.calls[-1][-1].content).lower()
    assert "[áudio do cliente]" in heard and ("limpeza" in heard or "preço" in heard)
    (sent,) = [m for m in graph.messages if m.get("to") == phone]
    assert sent["type"] == "audio"
    _, _, audio = [r for r in graph.sent if r.kind == "upload"][-1].files["file"]
    info = probe(audio)
    assert (info.container, info.codec) == ("ogg", "opus")
    with tenant_session(shop.ws) as s:
        transcript = s.execute(
            text("SELECT details->>'understood' FROM message WHERE kind = 'audio' AND direction = 'inbound'")
        ).scalar()
    assert transcript and "limpeza" in transcript.lower()


def test_empty_and_oversize_media_get_a_clear_status_and_the_conversation_goes_on(shop, graph, model, monkeypatch):
    from runtime.config import get_settings

    phone = lead()
    empty = graph.add_media(b"", "image/jpeg")
    send_media(shop, phone, "image", empty, "image/jpeg")
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    monkeypatch.setenv("MEDIA_MAX_BYTES", "2048")
    get_settings.cache_clear()
    try:
        big = graph.add_media((COMPANY / "politicas-e-procedimentos.pdf").read_bytes(), "application/pdf")
        send_media(shop, phone, "document", big, "application/pdf", filename="grande.pdf")
        wait_until(lambda: len(sent_to(graph, phone)) == 2, timeout=30)
    finally:
        get_settings.cache_clear()
    with tenant_session(shop.ws) as s:
        rows = s.execute(
            text(
                "SELECT kind, media->>'status', media->>'error' FROM message WHERE direction = 'inbound' "
                "ORDER BY created_at"
            )
        ).all()
    assert [(k, st) for k, st, _ in rows] == [("image", "failed"), ("document", "failed")]
    assert "vazio" in rows[0][2].lower() and "limite" in rows[1][2].lower()
    assert sent_to(graph, phone)[1].startswith("Não consegui abrir o arquivo")
    assert model.calls == []


# --- hostile media from a lead ---------------------------------------------------------------


@pytest.fixture
def stt_fake(monkeypatch, fresh_settings):
    """Speech-to-text through the real openai client against the local fake of its API."""
    from runtime.config import get_settings
    from runtime.media import stt
    from tests.fakes.transcription import FakeOpenAITranscription

    fake = FakeOpenAITranscription()
    with serve_in_thread(fake.app()) as url:
        monkeypatch.setenv("STT_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        get_settings.cache_clear()
        stt.clear_cache(models=False)
        yield fake
    stt.clear_cache(models=False)


def inbound_media(api) -> list[tuple]:
    with tenant_session(api.ws) as s:
        return s.execute(
            text(
                "SELECT kind, media->>'status', media->>'error', details->>'understood' FROM message "
                "WHERE direction = 'inbound' AND kind <> 'text' ORDER BY created_at"
            )
        ).all()


@pytest.mark.timeout(120)
def test_a_document_bomb_gets_the_honest_reply_within_seconds(shop, graph, model):
    from tests import bombs

    phone = lead()
    bomb = graph.add_media(bombs.pdf_repeating_one_page(500), "application/pdf")
    started = time.monotonic()
    send_media(shop, phone, "document", bomb, "application/pdf", filename="catalogo.pdf")
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert time.monotonic() - started < 15
    assert sent_to(graph, phone) == [
        "Não consegui abrir o arquivo 😕 Pode mandar de novo (PDF ou DOCX) ou escrever o que precisa?"
    ]
    assert model.calls == []  # nothing was guessed
    ((kind, status, error, _),) = inbound_media(shop)
    assert (kind, status) == ("document", "failed") and error.startswith("O PDF tem 500 páginas")
    model.add("Claro! A limpeza custa R$ 180,00 [1].")
    say(shop, phone, "quanto custa a limpeza?")
    wait_until(lambda: len(sent_to(graph, phone)) == 2, timeout=20)


@pytest.mark.timeout(120)
def test_a_7_hour_voice_note_gets_the_honest_reply_and_is_never_sent_to_the_provider(
    shop, graph, model, stt_fake, tmp_path
):
    from tests import bombs

    phone = lead()
    note = graph.add_media(bombs.long_opus(tmp_path, hours=7), "audio/ogg; codecs=opus")
    started = time.monotonic()
    payload = meta.media_message("audio", note, "audio/ogg; codecs=opus", voice=True, from_phone=phone)
    body, headers = meta.signed(payload, APP_SECRET)
    assert shop.post(shop.hook, content=body, headers=headers).status_code == 200
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert time.monotonic() - started < 15
    assert sent_to(graph, phone) == ["Não consegui ouvir seu áudio 😕 Pode mandar de novo ou escrever?"]
    assert stt_fake.requests == [] and model.calls == []
    ((kind, status, error, _),) = inbound_media(shop)
    assert (kind, status) == ("audio", "failed") and error.startswith("O áudio tem 7 h, acima do limite de 10 min")


def test_a_transcript_with_nul_is_stored_and_answered(shop, graph, model, stt_fake, tmp_path):
    import subprocess

    clip = tmp_path / "nota.ogg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=3", "-c:a", "libopus", str(clip)],
        check=True,
    )
    stt_fake.text = "Bom dia\x00, quanto custa a limpeza?"
    phone = lead()
    note = graph.add_media(clip.read_bytes(), "audio/ogg; codecs=opus")
    model.add("A limpeza custa R$ 180,00 [1].")
    payload = meta.media_message("audio", note, "audio/ogg; codecs=opus", voice=True, from_phone=phone)
    body, headers = meta.signed(payload, APP_SECRET)
    assert shop.post(shop.hook, content=body, headers=headers).status_code == 200
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert inbound_media(shop) == [("audio", "ok", None, "Bom dia, quanto custa a limpeza?")]
    assert "[áudio do cliente] Bom dia, quanto custa a limpeza?" in str(model.calls[-1][-1].content)


def test_a_document_whose_text_has_a_lone_surrogate_is_read_and_stored(shop, graph, model):
    """A broken PDF font maps a glyph to half a UTF-16 pair, which PostgreSQL cannot store."""
    from tests import bombs
    from tests.knowledge.test_untrusted_text import CMAP

    phone = lead()
    pdf = graph.add_media(bombs.pdf_with_text(b"BT /F1 12 Tf 72 700 Td (AABCA) Tj ET", CMAP), "application/pdf")
    model.add("Recebi o PDF, obrigado! [1]")
    send_media(shop, phone, "document", pdf, "application/pdf", filename="fonte.pdf")
    wait_until(lambda: sent_to(graph, phone), timeout=30)
    assert inbound_media(shop) == [("document", "ok", None, "Documento fonte:\nAA\ufffdA")]
    assert "[documento do cliente] Documento fonte:\nAA\ufffdA" in str(model.calls[-1][-1].content)
