"""The agent's chat-model layer: building per provider, the real ChatOpenAI against a local fake of
the Chat Completions API, retries, hard timeouts, errors without keys, and the scripted model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_openai import ChatOpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime.agent.llm import (
    DEFAULT_MODELS,
    LLMResult,
    LLMUnavailable,
    build_chat_model,
    count_usage,
    invoke_with_tools,
)
from runtime.agent.settings import LLMSettings
from tests.fakes.chat_model import ScriptedChatModel
from tests.fakes.openai_chat import FakeOpenAIChat, Reply, last_user_text, tool_call, tool_results
from tests.fakes.servers import serve_in_thread

FAST = {"timeout_seconds": 2.0, "max_retries": 2, "backoff_seconds": 0.01}


@tool
def update_lead(name: str, budget: float | None = None) -> str:
    """Record what the lead told us (name, budget)."""
    return "ok"


@tool
def handoff_to_human(reason: str) -> str:
    """Hand the conversation over to a person."""
    return "ok"


TOOLS = [update_lead, handoff_to_human]
PROMPT = [SystemMessage("Você é a vendedora da Loja Exemplo."), HumanMessage("Oi, meu nome é Ana")]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def openai_fake(served) -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake, url = served
    fake.reset()
    fake.responder = None
    fake.default_reply = None
    yield fake, url
    fake.reset()


def openai_model(url: str, key: str | None, **settings) -> ChatOpenAI:
    model = build_chat_model(LLMSettings(provider="openai", base_url=url + "/v1", **settings), key)
    assert isinstance(model, ChatOpenAI)
    return model


# ---------------------------------------------------------------------------------------------
# build_chat_model
# ---------------------------------------------------------------------------------------------
def test_build_none_is_none() -> None:
    assert build_chat_model(LLMSettings(provider="none"), "whatever") is None


def test_build_openai_defaults_and_settings() -> None:
    model = build_chat_model(LLMSettings(provider="openai", temperature=0.1, timeout_seconds=12), "sk-abc")
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == DEFAULT_MODELS["openai"] == "gpt-4o-mini"
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.openai_api_key.get_secret_value() == "sk-abc"
    assert model.max_retries == 0 and model.request_timeout == 12 and model.temperature == 0.1
    assert model.use_responses_api is False

    groq = build_chat_model(
        LLMSettings(provider="openai", model="llama-3.3-70b-versatile", base_url="https://api.groq.com/openai/v1/"),
        "gsk_x",
    )
    assert isinstance(groq, ChatOpenAI)
    assert groq.openai_api_base == "https://api.groq.com/openai/v1"
    assert groq.model_name == "llama-3.3-70b-versatile"

    local = build_chat_model(LLMSettings(provider="openai", base_url="http://127.0.0.1:8080/v1"), None)
    assert isinstance(local, ChatOpenAI) and local.openai_api_key.get_secret_value()  # a placeholder


def test_build_openai_without_key_or_server_fails_clearly() -> None:
    with pytest.raises(LLMUnavailable) as info:
        build_chat_model(LLMSettings(provider="openai"), None)
    assert info.value.reason == "config" and "chave" in str(info.value)


def test_build_ollama() -> None:
    model = build_chat_model(LLMSettings(provider="ollama"), None)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://localhost:11434/v1"
    assert model.model_name == DEFAULT_MODELS["ollama"]
    assert model.openai_api_key.get_secret_value()
    assert model.max_retries == 0
    other = build_chat_model(LLMSettings(provider="ollama", model="qwen2.5:7b", base_url="http://gpu:11434/v1"), None)
    assert isinstance(other, ChatOpenAI) and other.openai_api_base == "http://gpu:11434/v1"


def test_build_gemini() -> None:
    model = build_chat_model(LLMSettings(provider="gemini", timeout_seconds=9), "AIza-test")
    assert isinstance(model, ChatGoogleGenerativeAI)
    assert model.model == DEFAULT_MODELS["gemini"] == "gemini-2.5-flash"
    assert model.timeout == 9
    assert model.max_retries == 1  # one attempt: google-genai reads 0 as "its default"
    assert model.google_api_key.get_secret_value() == "AIza-test"
    proxied = build_chat_model(LLMSettings(provider="gemini", model="gemini-flash-latest", base_url="http://p"), "k")
    assert isinstance(proxied, ChatGoogleGenerativeAI) and proxied.base_url == "http://p"
    with pytest.raises(LLMUnavailable):
        build_chat_model(LLMSettings(provider="gemini"), "")


# ---------------------------------------------------------------------------------------------
# The real ChatOpenAI against the fake server
# ---------------------------------------------------------------------------------------------
def test_text_answer(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key, temperature=0.2)
    fake.script(Reply(content="Olá, Ana! Como posso ajudar?", usage={"prompt_tokens": 42, "completion_tokens": 7}))
    result = invoke_with_tools(model, PROMPT, None, **FAST)
    assert isinstance(result, LLMResult)
    assert result.message.content == "Olá, Ana! Como posso ajudar?"
    assert result.tool_calls == []
    assert (result.input_tokens, result.output_tokens, result.attempts) == (42, 7, 1)
    body = fake.last_body()
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0.2
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "tools" not in body
    assert fake.requests[-1]["headers"]["authorization"] == f"Bearer {fake.api_key}"


def test_tool_call_then_tool_result_round(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key)
    fake.script(tool_call("update_lead", {"name": "Ana", "budget": 1500}, call_id="call_abc"))
    first = invoke_with_tools(model, PROMPT, TOOLS, **FAST)
    assert first.message.tool_calls == [
        {"name": "update_lead", "args": {"name": "Ana", "budget": 1500}, "id": "call_abc", "type": "tool_call"}
    ]
    assert first.input_tokens > 0 and first.output_tokens > 0
    sent = fake.last_body()
    assert [t["function"]["name"] for t in sent["tools"]] == ["update_lead", "handoff_to_human"]
    assert sent["tools"][0]["type"] == "function"
    assert "name" in sent["tools"][0]["function"]["parameters"]["properties"]

    # second round: our request carries the assistant's call and the tool's result
    fake.responder = lambda body: f"Anotado! Resultado: {tool_results(body).get('call_abc')}"
    history = [*PROMPT, first.message, ToolMessage(content="lead atualizado", tool_call_id="call_abc")]
    second = invoke_with_tools(model, history, TOOLS, **FAST)
    assert second.message.content == "Anotado! Resultado: lead atualizado"
    messages = fake.last_body()["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2]["tool_calls"][0]["id"] == "call_abc"
    assert json.loads(messages[2]["tool_calls"][0]["function"]["arguments"]) == {"name": "Ana", "budget": 1500}
    assert messages[3] == {"role": "tool", "content": "lead atualizado", "tool_call_id": "call_abc"}
    assert count_usage([first.message, second.message]) == (
        first.input_tokens + second.input_tokens,
        first.output_tokens + second.output_tokens,
    )


def test_fake_refuses_unanswered_tool_call_and_unknown_tool(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key)
    dangling = AIMessage(content="", tool_calls=[{"name": "update_lead", "args": {"name": "Ana"}, "id": "c9"}])
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, [*PROMPT, dangling], TOOLS, **FAST)
    assert info.value.reason == "bad_request" and info.value.status == 400 and info.value.attempts == 1
    fake.script(tool_call("delete_everything", {}))
    with pytest.raises(LLMUnavailable):
        invoke_with_tools(model, PROMPT, TOOLS, **FAST)


def test_responder_answers_from_last_user_message(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key)
    fake.responder = lambda body: "Abrimos às 9h." if "abre" in last_user_text(body) else None
    fake.default_reply = "Não entendi."
    assert invoke_with_tools(model, [HumanMessage("que horas abre?")], None, **FAST).message.content == "Abrimos às 9h."
    assert invoke_with_tools(model, [HumanMessage("oi")], None, **FAST).message.content == "Não entendi."


def test_retries_server_errors_then_succeeds(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key)
    fake.fail_next(2, status=500)
    fake.script("Deu certo na terceira.")
    result = invoke_with_tools(model, PROMPT, TOOLS, **FAST)
    assert result.message.content == "Deu certo na terceira."
    assert result.attempts == 3
    assert [r["status"] for r in fake.requests] == [500, 500, 200]


def test_rate_limit_exhausts_retries(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key)
    fake.fail_next(3, status=429, retry_after=0)
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, **FAST)
    assert info.value.reason == "rate_limit" and info.value.status == 429 and info.value.transient
    assert info.value.attempts == 3 and len(fake.requests) == 3


def test_stall_longer_than_timeout_is_retried_then_unavailable(openai_fake) -> None:
    fake, url = openai_fake
    # the SDK's own timeout is far longer: the hard per-attempt timeout is what stops the wait
    model = openai_model(url, fake.api_key, timeout_seconds=60)
    fake.stall_next(2, seconds=1.0)
    fake.script("tarde demais", "tarde demais")
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, timeout_seconds=0.3, max_retries=1, backoff_seconds=0.01)
    assert time.monotonic() - started < 1.5
    assert info.value.reason == "timeout" and info.value.attempts == 2
    assert "0.3s" in str(info.value)
    assert len(fake.requests) == 2


def test_stall_then_success_on_retry(openai_fake) -> None:
    fake, url = openai_fake
    model = openai_model(url, fake.api_key, timeout_seconds=60)
    fake.stall_next(1, seconds=1.0)
    fake.script("resposta perdida", "resposta a tempo")
    result = invoke_with_tools(model, PROMPT, None, timeout_seconds=0.3, max_retries=2, backoff_seconds=0.01)
    assert result.message.content == "resposta a tempo" and result.attempts == 2


def test_wrong_key_fails_at_once_without_the_key(openai_fake) -> None:
    fake, url = openai_fake
    wrong = "sk-wrong-" + "9" * 24
    model = openai_model(url, wrong)
    fake.script("never")
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, TOOLS, **FAST)
    exc = info.value
    assert exc.reason == "auth" and exc.status == 401 and not exc.transient and exc.attempts == 1
    assert len(fake.requests) == 1
    shown = f"{exc!s} {exc!r}"
    assert wrong not in shown and wrong[-4:] not in shown and fake.api_key not in shown
    assert "401" in shown


def test_connection_refused_is_unavailable() -> None:
    from tests.fakes.servers import free_port

    model = openai_model(f"http://127.0.0.1:{free_port()}", "sk-x")
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, timeout_seconds=2, max_retries=1, backoff_seconds=0.01)
    assert info.value.reason == "connection" and info.value.attempts == 2


# ---------------------------------------------------------------------------------------------
# The egress guard: an agent's own LLM server may not be an internal address
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def nothing_internal(monkeypatch, fresh_settings):
    """The test run allows loopback for its fakes; here nothing internal is allowed."""
    from runtime.config import get_settings

    monkeypatch.setenv("EGRESS_ALLOW_PRIVATE_NETWORKS", "")
    get_settings.cache_clear()


def test_a_base_url_on_an_internal_address_is_refused_at_call_time(nothing_internal) -> None:
    fake = FakeOpenAIChat(default_reply="olá")
    with serve_in_thread(fake.app()) as url:  # its own server: no pooled connection from other tests
        model = openai_model(url, fake.api_key)
        with pytest.raises(LLMUnavailable) as info:
            invoke_with_tools(model, PROMPT, None, **FAST)
    assert info.value.reason == "config" and info.value.attempts == 1  # not retried: retrying cannot help
    assert "rede interna" in str(info.value) and "EGRESS_ALLOW_PRIVATE_NETWORKS" in str(info.value)
    assert fake.requests == []  # nothing, and no key, reached the server
    assert fake.api_key not in f"{info.value!s} {info.value!r}"


def test_ollama_default_is_loopback_and_needs_to_be_allowed(nothing_internal) -> None:
    model = build_chat_model(LLMSettings(provider="ollama"), None)
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, **FAST)
    assert info.value.reason == "config" and "localhost" in str(info.value)


def test_the_default_public_endpoints_keep_the_sdk_clients() -> None:
    """OpenAI's and Gemini's own endpoints are not the owner's choice: their SDK clients (and proxy
    settings) stay; a custom base_url gets the guarded client."""
    from runtime import egress

    assert build_chat_model(LLMSettings(provider="openai"), "sk-x").http_client is None
    custom = build_chat_model(LLMSettings(provider="openai", base_url="http://10.0.0.1/v1"), "sk-x")
    assert custom.http_client is egress.shared_client()
    assert build_chat_model(LLMSettings(provider="gemini"), "AIza").client_args is None


def test_check_endpoint_when_saving() -> None:
    from runtime.agent.llm import check_endpoint

    for llm in (
        LLMSettings(provider="openai", base_url="http://10.0.0.1:8000/v1"),
        LLMSettings(provider="gemini", base_url="http://169.254.169.254"),
        LLMSettings(provider="ollama", base_url="http://[::ffff:192.168.0.5]:11434/v1"),
    ):
        with pytest.raises(LLMUnavailable) as info:
            check_endpoint(llm)
        assert info.value.reason == "config" and "rede interna" in str(info.value)
    check_endpoint(LLMSettings(provider="openai"))  # the public default: nothing to check
    check_endpoint(LLMSettings(provider="openai", base_url="https://nao-resolve-agora.invalid/v1"))


def test_gemini_base_url_on_an_internal_address_is_refused(nothing_internal) -> None:
    seen: list[str] = []

    async def generate(request: Request) -> JSONResponse:
        seen.append(request.url.path)
        return JSONResponse({"candidates": []})

    app = Starlette(routes=[Route("/{version}/models/{model_action}", generate, methods=["POST"])])
    with serve_in_thread(app) as url:
        model = build_chat_model(LLMSettings(provider="gemini", base_url=url), "AIza-da-loja")
        with pytest.raises(LLMUnavailable) as info:
            invoke_with_tools(model, PROMPT, None, **FAST)
    assert info.value.reason == "config" and "rede interna" in str(info.value)
    assert seen == []


# ---------------------------------------------------------------------------------------------
# Gemini: ChatGoogleGenerativeAI through base_url, against a minimal generateContent fake
# ---------------------------------------------------------------------------------------------
def test_gemini_through_base_url() -> None:
    seen: list[dict] = []
    statuses = [503]  # the first call fails, the second answers

    async def generate(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append({"path": request.url.path, "key": request.headers.get("x-goog-api-key"), "body": body})
        if statuses:
            code = statuses.pop(0)
            return JSONResponse(
                {"error": {"code": code, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
                status_code=code,
            )
        if request.headers.get("x-goog-api-key") != "AIza-good":
            return JSONResponse(
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
                    }
                },
                status_code=400,
            )
        part = {"functionCall": {"name": "update_lead", "args": {"name": "Ana"}}}
        return JSONResponse(
            {
                "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 3, "totalTokenCount": 14},
                "modelVersion": "gemini-2.5-flash",
            }
        )

    app = Starlette(routes=[Route("/{version}/models/{model_action}", generate, methods=["POST"])])
    with serve_in_thread(app) as url:
        model = build_chat_model(LLMSettings(provider="gemini", base_url=url), "AIza-good")
        result = invoke_with_tools(model, PROMPT, TOOLS, **FAST)
        assert result.attempts == 2
        assert [(c["name"], c["args"]) for c in result.tool_calls] == [("update_lead", {"name": "Ana"})]
        assert (result.input_tokens, result.output_tokens) == (11, 3)
        assert seen[-1]["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
        assert seen[-1]["key"] == "AIza-good"
        declared = seen[-1]["body"]["tools"][0]["functionDeclarations"]
        assert [d["name"] for d in declared] == ["update_lead", "handoff_to_human"]

        bad = build_chat_model(LLMSettings(provider="gemini", base_url=url), "AIza-bad-secret")
        calls = len(seen)
        with pytest.raises(LLMUnavailable) as info:
            invoke_with_tools(bad, PROMPT, None, **FAST)
        assert info.value.reason == "auth" and info.value.attempts == 1 and len(seen) == calls + 1
        assert "AIza-bad-secret" not in f"{info.value!s} {info.value!r}"


# ---------------------------------------------------------------------------------------------
# ScriptedChatModel
# ---------------------------------------------------------------------------------------------
def test_scripted_model_binds_tools_and_records_calls() -> None:
    model = ScriptedChatModel(
        replies=[
            AIMessage(content="", tool_calls=[{"name": "update_lead", "args": {"name": "Ana"}, "id": "t1"}]),
            AIMessage(content="", tool_calls=[{"name": "handoff_to_human", "args": {"reason": "preço"}, "id": None}]),
            "Prazer, Ana!",
        ]
    )
    first = invoke_with_tools(model, PROMPT, TOOLS, **FAST)
    assert model.tool_names == ["update_lead", "handoff_to_human"]
    assert first.tool_calls[0]["id"] == "t1" and first.tool_calls[0]["args"] == {"name": "Ana"}
    assert first.input_tokens > 0
    second = invoke_with_tools(model, [HumanMessage("quanto custa?")], TOOLS, **FAST)
    assert second.tool_calls[0]["id"] == "call_1"  # filled in
    third = invoke_with_tools(model, PROMPT, TOOLS, **FAST)
    assert third.message.content == "Prazer, Ana!" and third.output_tokens == 2
    assert len(model.calls) == 3 and model.pending == 0
    assert model.system_prompt(0) == "Você é a vendedora da Loja Exemplo."
    assert model.last_messages[-1].content == "Oi, meu nome é Ana"
    with pytest.raises(LLMUnavailable):  # script exhausted: fails loudly
        invoke_with_tools(model, PROMPT, None, **FAST)


def test_scripted_model_errors_and_stalls() -> None:
    model = ScriptedChatModel(replies=["enfim"])
    model.raise_next(TimeoutError("provider timed out"), n=2)
    assert invoke_with_tools(model, PROMPT, None, **FAST).attempts == 3

    model = ScriptedChatModel(default_reply="ok")
    model.stall_next(1.0, n=2)
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, timeout_seconds=0.2, max_retries=1, backoff_seconds=0.01)
    assert info.value.reason == "timeout" and info.value.attempts == 2

    model = ScriptedChatModel(replies=["nunca"])
    model.raise_next(ValueError("bad schema"))
    with pytest.raises(LLMUnavailable) as info:
        invoke_with_tools(model, PROMPT, None, **FAST)
    assert info.value.attempts == 1 and model.pending == 1  # not retried
    assert model.invoke("oi").content == "nunca"  # plain invoke works too


def test_scripted_model_callable_reply() -> None:
    model = ScriptedChatModel(replies=[lambda messages: f"eco: {messages[-1].content}"])
    assert invoke_with_tools(model, [HumanMessage("olá")], None, **FAST).message.content == "eco: olá"
