"""Playground: an owner talks to a real agent (real turn graph, real ChatOpenAI talking HTTP to a
scripted chat-completions server) and sees each reply's trace; files go through the real media
understanding; nothing of it becomes a lead."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db.models import Role
from db.tenancy import tenant_session
from runtime.access import Forbidden, Principal, UserError
from runtime.agent.service import create_agent
from runtime.knowledge.documents import add_document, ingest_document
from runtime.panel import playground as pg_service
from tests.fakes.openai_chat import FakeOpenAIChat, last_user_text, tool_call
from tests.fakes.servers import serve_in_thread

COMPANY = Path(__file__).resolve().parents[1] / "data" / "company"


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        yield fake, url + "/v1"


@pytest.fixture
def chat(llm) -> FakeOpenAIChat:
    llm[0].reset()
    return llm[0]


def _agent(ws_id: uuid.UUID, llm_settings: dict, key: str | None, **settings) -> str:
    with tenant_session(ws_id) as s:
        agent = create_agent(
            s,
            ws_id,
            name="Sofia",
            settings={"persona": "Você é a Sofia, da Clínica Sorriso Feliz.", "llm": llm_settings, **settings},
            llm_api_key=key,
        )
        s.commit()
        return str(agent.id)


@pytest.fixture
def shop(workspace, llm):
    """A workspace with the clinic's 'about us' page in its knowledge and an OpenAI agent."""
    ws = workspace[0]
    with tenant_session(ws.workspace_id) as s:
        md = COMPANY / "sobre-nos.md"
        doc = add_document(s, ws.workspace_id, filename=md.name, data=md.read_bytes()).document.id
        s.commit()
    assert ingest_document(ws.workspace_id, doc) == "ready"
    fake, url = llm
    agent_id = _agent(
        ws.workspace_id,
        {"provider": "openai", "model": "gpt-4o-mini", "base_url": url, "timeout_seconds": 10, "max_retries": 0},
        fake.api_key,
        qualification=[{"key": "need", "label": "Tratamento desejado"}],
    )
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    return owner, agent_id


def _rows(ws_id: uuid.UUID, table: str) -> int:
    with tenant_session(ws_id) as s:
        return s.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_a_cited_answer_from_the_knowledge_with_its_trace(shop, chat):
    owner, agent_id = shop
    chat.script(
        tool_call("update_lead", {"fields": {"need": "limpeza"}, "lead_type": "customer"}),
        "Temos convênio com o estacionamento Park Center: as 2 primeiras horas são por nossa conta [1].",
    )
    out = pg_service.send_message(owner, agent_id, "s1", "Vocês têm estacionamento?")
    assert out["lead"] == {**out["lead"], "role": "lead", "text": "Vocês têm estacionamento?"}
    reply = out["reply"]
    assert reply["role"] == "agent" and reply["text"].endswith("[1].") and reply["suggestion"] is False
    trace = reply["trace"]
    assert trace["route"] == "llm" and trace["intent"] == "knowledge" and trace["mode"] == "pilot"
    assert trace["route_label"] == "Modelo de linguagem" and trace["intent_label"].startswith("Pergunta")
    assert trace["sources"][0]["filename"] == "sobre-nos.md" and trace["sources"][0]["label"].startswith("[1] ")
    assert trace["lead_type"] == "customer" and trace["lead_type_label"] == "Cliente"
    assert [c["name"] for c in trace["tool_calls"]] == ["update_lead"] and "limpeza" in trace["tool_calls"][0]["args"]
    assert trace["tokens_in"] > 0 and trace["tokens_out"] > 0 and trace["confidence"] > 0.5
    # the knowledge went to the model
    assert "sobre-nos.md" in chat.bodies()[0]["messages"][0]["content"]

    # the history shows the same exchange, trace included, after a "reload"
    hist = pg_service.history(owner, agent_id, "s1")
    assert [b["role"] for b in hist] == ["lead", "agent"]
    assert hist[1]["text"] == reply["text"] and hist[1]["trace"] == trace

    # the next turn remembers the exchange and what was learned about the lead
    chat.script("Posso agendar sua limpeza para sábado?")
    pg_service.send_message(owner, agent_id, "s1", "e limpeza?")
    body = chat.last_body()
    contents = [m.get("content") for m in body["messages"]]
    assert "Vocês têm estacionamento?" in contents and reply["text"] in contents
    assert "limpeza" in body["messages"][0]["content"]  # lead fields in the prompt

    # nothing became a lead, a conversation or a turn
    for table in ("contact", "conversation", "message", "conversation_turn"):
        assert _rows(owner.workspace_id, table) == 0, table


def test_reset_clears_the_conversation(shop, chat):
    owner, agent_id = shop
    chat.script("Olá! Em que posso ajudar?")
    pg_service.send_message(owner, agent_id, "s2", "tudo certo por aí? quero saber uma coisa")
    assert len(pg_service.history(owner, agent_id, "s2")) == 2
    assert pg_service.history(owner, agent_id, "outra") == []  # sessions are apart
    assert pg_service.reset(owner, agent_id, "s2") == []
    assert pg_service.history(owner, agent_id, "s2") == []
    chat.script("Oi de novo!")
    pg_service.send_message(owner, agent_id, "s2", "quero saber uma coisa")
    assert [m["role"] for m in chat.last_body()["messages"]] == ["system", "user"]  # the model forgot too


def test_each_user_has_their_own_playground(shop, chat, workspace):
    owner, agent_id = shop
    chat.script("Oi!")
    pg_service.send_message(owner, agent_id, "s3", "uma pergunta qualquer sobre vocês")
    colleague = Principal(uuid.uuid4(), owner.workspace_id, Role.admin)
    assert pg_service.history(colleague, agent_id, "s3") == []
    stranger = Principal(workspace[0].user_id, uuid.uuid4(), Role.owner)
    with pytest.raises(UserError):
        pg_service.history(stranger, agent_id, "s3")  # another workspace's agent is not found


def test_a_document_the_lead_sends_reaches_the_agent(shop, chat):
    owner, agent_id = shop
    chat.script("Vi a política: o cancelamento deve ser feito com antecedência [1].")
    pdf = (COMPANY / "politicas-e-procedimentos.pdf").read_bytes()
    out = pg_service.send_message(
        owner,
        agent_id,
        "s4",
        "o que diz aqui?",
        attachment={"filename": "politicas.pdf", "data": pdf, "mime_type": "application/pdf"},
    )
    asked = last_user_text(chat.last_body())
    assert asked.startswith("[documento do cliente] Documento") and asked.endswith("o que diz aqui?")
    assert out["lead"]["attachment"] == "politicas.pdf" and out["lead"]["attachment_kind"] == "document"
    hist = pg_service.history(owner, agent_id, "s4")
    assert hist[0]["text"] == "o que diz aqui?" and hist[0]["attachment"] == "politicas.pdf"


@pytest.fixture
def stt(monkeypatch) -> Iterator:
    from runtime.config import get_settings
    from runtime.media import stt as stt_module
    from tests.fakes.transcription import FakeOpenAITranscription

    fake = FakeOpenAITranscription()
    with serve_in_thread(fake.app()) as url:
        monkeypatch.setenv("STT_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        get_settings.cache_clear()
        stt_module.clear_cache(models=False)
        try:
            yield fake
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
            stt_module.clear_cache(models=False)


def _voice_note(tmp_path: Path) -> bytes:
    out = tmp_path / "nota.ogg"
    tone = ("-f", "lavfi", "-i", "sine=frequency=440:duration=2")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", *tone, "-c:a", "libopus", "-ac", "1", "-ar", "48000", str(out)],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


def test_a_voice_note_is_transcribed_before_the_turn(shop, chat, stt, tmp_path):
    owner, agent_id = shop
    stt.text = "Bom dia, vocês têm estacionamento?"
    chat.script("Temos sim: convênio com o Park Center [1].")
    out = pg_service.send_message(
        owner,
        agent_id,
        "s5",
        "",
        attachment={"filename": "audio.ogg", "data": _voice_note(tmp_path), "mime_type": "audio/ogg; codecs=opus"},
    )
    assert stt.requests and stt.requests[-1]["form"].get("language") == "pt"
    assert last_user_text(chat.last_body()) == "[áudio do cliente] Bom dia, vocês têm estacionamento?"
    assert out["lead"]["attachment_kind"] == "audio" and out["lead"]["attachment_text"] == stt.text
    assert out["reply"]["trace"]["sources"][0]["filename"] == "sobre-nos.md"


def test_an_unreadable_file_gets_the_honest_reply(shop, chat):
    owner, agent_id = shop
    out = pg_service.send_message(
        owner,
        agent_id,
        "s6",
        "",
        attachment={"filename": "x.pdf", "data": b"not a pdf", "mime_type": "application/pdf"},
    )
    assert "Não consegui abrir o arquivo" in out["reply"]["text"]
    assert out["reply"]["trace"]["route"] == "media_error" and out["reply"]["trace"]["errors"]
    assert chat.requests == []  # the model was not asked to guess


def test_without_an_api_key_the_turn_hands_off_with_the_reason(workspace, chat):
    ws = workspace[0]
    agent_id = _agent(ws.workspace_id, {"provider": "openai"}, None)
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    assert pg_service.overview(owner)["agents"][0]["needs_key"] is True
    out = pg_service.send_message(owner, agent_id, "s7", "Quanto custa um clareamento?")
    trace = out["reply"]["trace"]
    assert out["reply"]["text"] == "Vou chamar uma pessoa da nossa equipe para te responder. Só um instante! 🙂"
    assert trace["route"] == "handoff" and "chave de API" in trace["handoff_reason"]
    assert "indisponível" in trace["handoff_reason"]
    assert _rows(ws.workspace_id, "conversation") == 0  # no handoff flagged anywhere


def test_copilot_mode_shows_the_reply_as_a_suggestion(shop, chat):
    owner, agent_id = shop
    assert pg_service.set_mode(owner, agent_id, "s8", "copilot")["mode"] == "copilot"
    with pytest.raises(UserError):
        pg_service.set_mode(owner, agent_id, "s8", "off")
    chat.script("Temos convênio com o Park Center [1]. Qual tratamento você procura?")
    out = pg_service.send_message(owner, agent_id, "s8", "vocês têm estacionamento?", mode="copilot")
    assert out["reply"]["suggestion"] is True and out["reply"]["trace"]["mode"] == "copilot"
    assert out["reply"]["trace"]["next_step"].startswith("Descobrir: Tratamento desejado")


def test_overview_and_validation(shop, chat):
    owner, agent_id = shop
    view = pg_service.overview(owner)
    assert [a["id"] for a in view["agents"]] == [agent_id]
    assert view["agents"][0]["model"] == "openai · gpt-4o-mini" and view["agents"][0]["needs_key"] is False
    assert {m["value"] for m in view["modes"]} == {"pilot", "copilot"}
    with pytest.raises(UserError, match="Escreva"):
        pg_service.send_message(owner, agent_id, "s9", "   ")
    with pytest.raises(UserError):
        pg_service.send_message(owner, agent_id, "../x", "oi")
    with pytest.raises(UserError):
        pg_service.send_message(owner, str(uuid.uuid4()), "s9", "oi")
    with pytest.raises(UserError):
        pg_service.send_message(owner, "nao-e-id", "s9", "oi")
    assert chat.requests == []


def test_sellers_cannot_use_the_playground(shop):
    owner, agent_id = shop
    seller = Principal(owner.user_id, owner.workspace_id, Role.seller)
    for call in (
        lambda: pg_service.overview(seller),
        lambda: pg_service.history(seller, agent_id, "s"),
        lambda: pg_service.send_message(seller, agent_id, "s", "oi"),
        lambda: pg_service.reset(seller, agent_id, "s"),
        lambda: pg_service.set_mode(seller, agent_id, "s", "pilot"),
    ):
        with pytest.raises(Forbidden):
            call()
