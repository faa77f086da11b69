"""The one reading of provider failures: real openai, google-genai, LangChain and httpx errors, raised
by the real clients against the local fakes, classified the same way; retries with backoff and
Retry-After; API keys kept out of messages, logs and kept causes. No database."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import openai
import pytest
from google import genai
from google.genai.types import HttpOptions
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime.provider_errors import (
    Endpoint,
    Failure,
    FailureKind,
    RetryPolicy,
    call_with_retries,
    classify,
    describe,
    is_transient,
    not_carried_out,
    plain_secret,
    quotes_a_secret,
    redact,
)
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.embeddings import FakeGemini
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fakes.servers import free_port, serve_in_thread

FAST = RetryPolicy(attempts=3, base_seconds=0.01, timeout_seconds=2.0)


def raised(fn) -> BaseException:
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


# ---------------------------------------------------------------------------------------------
# openai, and LangChain around it
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chat_server() -> Iterator[tuple[FakeOpenAIChat, str]]:
    fake = FakeOpenAIChat(default_reply="olá")
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def chat(chat_server) -> tuple[FakeOpenAIChat, str]:
    chat_server[0].reset()
    return chat_server


def openai_call(url: str, key: str, timeout: float = 2.0):
    client = openai.OpenAI(api_key=key, base_url=f"{url}/v1", max_retries=0, timeout=timeout)
    return lambda: client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "oi"}])


@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [
        (429, FailureKind.RATE_LIMIT, True),
        (500, FailureKind.SERVER_ERROR, True),
        (503, FailureKind.SERVER_ERROR, True),
        (404, FailureKind.NOT_FOUND, False),
        (400, FailureKind.BAD_REQUEST, False),
    ],
)
def test_openai_answers(chat, status, kind, transient) -> None:
    fake, url = chat
    fake.fail_next(1, status=status)
    exc = raised(openai_call(url, fake.api_key))
    assert isinstance(exc, openai.APIStatusError)
    failure = classify(exc)
    assert (failure.kind, failure.status, failure.transient, is_transient(exc)) == (kind, status, transient, transient)
    assert failure.message and not failure.key_rejected


def test_openai_wrong_key_timeout_and_no_server(chat) -> None:
    fake, url = chat
    wrong = classify(raised(openai_call(url, "sk-wrong-" + "1" * 20)))
    assert (wrong.kind, wrong.status, wrong.key_rejected, wrong.transient) == (FailureKind.AUTH, 401, True, False)
    assert "Incorrect API key" in wrong.message

    fake.stall_next(1, seconds=1.0)
    slow = raised(openai_call(url, fake.api_key, timeout=0.2))
    assert isinstance(slow, openai.APITimeoutError)
    assert classify(slow).kind is FailureKind.TIMEOUT and is_transient(slow)

    gone = raised(openai_call(f"http://127.0.0.1:{free_port()}", fake.api_key))
    assert isinstance(gone, openai.APIConnectionError)
    assert classify(gone).kind is FailureKind.CONNECTION and is_transient(gone)
    assert not_carried_out(gone)  # the connection never opened


def test_langchain_wrapped_openai_errors(chat) -> None:
    fake, url = chat
    model = ChatOpenAI(model="gpt-4o-mini", base_url=f"{url}/v1", api_key=fake.api_key, max_retries=0, timeout=2)
    fake.fail_next(1, status=429, retry_after=0)
    failure = classify(raised(lambda: model.invoke([HumanMessage("oi")])))
    assert (failure.kind, failure.status) == (FailureKind.RATE_LIMIT, 429)


def test_an_exhausted_quota_is_not_transient() -> None:
    async def answer(request: Request) -> JSONResponse:
        error = {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
        return JSONResponse({"error": error}, status_code=429)

    app = Starlette(routes=[Route("/v1/chat/completions", answer, methods=["POST"])])
    with serve_in_thread(app) as url:
        failure = classify(raised(openai_call(url, "sk-x")))
    assert (failure.kind, failure.status, failure.transient) == (FailureKind.QUOTA, 429, False)


# ---------------------------------------------------------------------------------------------
# google-genai
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gemini_server() -> Iterator[tuple[FakeGemini, str]]:
    fake = FakeGemini()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def gemini(gemini_server) -> tuple[FakeGemini, str]:
    gemini_server[0].reset()
    return gemini_server


def gemini_call(url: str, key: str, model: str = "gemini-embedding-001", timeout: float = 2.0):
    client = genai.Client(
        api_key=key, vertexai=False, http_options=HttpOptions(base_url=url, timeout=int(timeout * 1000))
    )
    return lambda: client.models.embed_content(model=model, contents="oi")


def test_gemini_answers(gemini) -> None:
    fake, url = gemini
    fake.fail_next(1, 429)
    limited = classify(raised(gemini_call(url, fake.api_key)))
    assert (limited.kind, limited.status, limited.status_text) == (FailureKind.RATE_LIMIT, 429, "RESOURCE_EXHAUSTED")
    fake.fail_next(1, 503)
    down = classify(raised(gemini_call(url, fake.api_key)))
    assert (down.kind, down.status, down.transient) == (FailureKind.SERVER_ERROR, 503, True)
    unknown = classify(raised(gemini_call(url, fake.api_key, model="embedding-999")))
    assert (unknown.kind, unknown.status, unknown.transient) == (FailureKind.NOT_FOUND, 404, False)
    # Google answers a bad key with 400 INVALID_ARGUMENT and the reason API_KEY_INVALID
    bad = classify(raised(gemini_call(url, "AIza-wrong")))
    assert (bad.kind, bad.status, bad.key_rejected, bad.transient) == (FailureKind.AUTH, 400, True, False)
    assert bad.message == "API key not valid. Please pass a valid API key."


def test_gemini_timeout_and_no_server(gemini) -> None:
    fake, url = gemini
    fake.stall_next(1, 1.0)
    assert classify(raised(gemini_call(url, fake.api_key, timeout=0.2))).kind is FailureKind.TIMEOUT
    gone = raised(gemini_call(f"http://127.0.0.1:{free_port()}", fake.api_key))
    assert isinstance(gone, httpx.ConnectError)
    assert classify(gone).kind is FailureKind.CONNECTION and is_transient(gone)


def test_langchain_wrapped_gemini_errors(gemini) -> None:
    from langchain_google_genai import GoogleGenerativeAIEmbeddings

    fake, url = gemini
    embeddings = GoogleGenerativeAIEmbeddings(
        model="gemini-embedding-001", api_key=fake.api_key, base_url=url, vertexai=False
    )
    fake.fail_next(1, 503)
    exc = raised(lambda: embeddings.embed_query("oi"))
    assert type(exc).__module__.startswith("langchain_google_genai")  # the SDK's error is its cause
    assert (classify(exc).kind, classify(exc).status) == (FailureKind.SERVER_ERROR, 503)


# ---------------------------------------------------------------------------------------------
# plain httpx (ElevenLabs)
# ---------------------------------------------------------------------------------------------
def elevenlabs_post(url: str, key: str):
    def post() -> httpx.Response:
        response = httpx.post(
            f"{url}/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb", json={"text": "oi"}, headers={"xi-api-key": key}
        )
        response.raise_for_status()
        return response

    return post


def test_httpx_status_errors_and_what_a_non_idempotent_call_may_retry() -> None:
    fake = FakeElevenLabs(api_key="xi-right")
    with serve_in_thread(fake.app()) as url:
        bad_key = classify(raised(elevenlabs_post(url, "xi-wrong")))
        assert (bad_key.kind, bad_key.status, bad_key.key_rejected) == (FailureKind.AUTH, 401, True)
        fake.fail_next(1, 503)
        busy = raised(elevenlabs_post(url, "xi-right"))
        assert isinstance(busy, httpx.HTTPStatusError)
        assert is_transient(busy) and not_carried_out(busy)
        fake.fail_next(1, 500)
        broken = raised(elevenlabs_post(url, "xi-right"))
        assert is_transient(broken) and not not_carried_out(broken)  # it may have been done
    gone = raised(elevenlabs_post(f"http://127.0.0.1:{free_port()}", "xi-right"))
    assert classify(gone).kind is FailureKind.CONNECTION and not_carried_out(gone)


def test_what_is_not_a_provider_failure() -> None:
    assert classify(ValueError("bad schema")) == Failure(FailureKind.ERROR)
    assert not is_transient(ValueError("bad schema"))
    assert classify(TimeoutError("slow")).kind is FailureKind.TIMEOUT


def test_the_egress_guard_refusal_is_configuration_not_a_connection_error() -> None:
    from runtime.egress import Blocked, EgressRefused

    refused = EgressRefused("intranet.local", Blocked.private)
    try:
        try:
            raise refused
        except EgressRefused as exc:
            raise openai.APIConnectionError(request=httpx.Request("POST", "http://intranet.local")) from exc
    except openai.APIConnectionError as wrapped:
        failure = classify(wrapped)
    assert failure.kind is FailureKind.CONFIG and not failure.transient and failure.source is refused


# ---------------------------------------------------------------------------------------------
# Describing (knowledge base, speech-to-text)
# ---------------------------------------------------------------------------------------------
def test_describe(chat, gemini) -> None:
    fake, url = chat
    openai_api = Endpoint("api.openai.com", "OPENAI_API_KEY", {404: "confira EMBEDDING_MODEL"})
    wrong = raised(openai_call(url, "sk-wrong-" + "2" * 20))
    assert describe(wrong, openai_api, 2.0).endswith("(confira OPENAI_API_KEY)")
    fake.fail_next(1, status=404)
    missing = raised(openai_call(url, fake.api_key))
    assert describe(missing, openai_api, 2.0) == (
        "HTTP 404: The model does not exist or you do not have access to it. (confira EMBEDDING_MODEL)"
    )
    fake.stall_next(1, seconds=1.0)
    slow = raised(openai_call(url, fake.api_key, timeout=0.2))
    assert describe(slow, openai_api, 2.0) == "sem resposta de api.openai.com em 2s"

    g, gurl = gemini
    gemini_api = Endpoint(gurl, "GEMINI_API_KEY")
    g.fail_next(1, 429)
    limited = raised(gemini_call(gurl, g.api_key))
    assert describe(limited, gemini_api, 2.0) == (
        "HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota). (limite de uso ou cota excedida)"
    )
    bad = raised(gemini_call(gurl, "AIza-wrong"))
    assert describe(bad, gemini_api, 2.0).endswith("(confira GEMINI_API_KEY)")
    # the same dead server, told the same way by both SDKs
    nowhere = f"http://127.0.0.1:{free_port()}"
    told = {
        describe(raised(call), Endpoint("x", "K"), 2.0)
        for call in (openai_call(nowhere, "k"), gemini_call(nowhere, "k"))
    }
    assert len(told) == 1 and told.pop().startswith("não foi possível conectar a x (ConnectError: ")
    # an in-process model: its exception as it is, no reading of HTTP
    assert describe(ValueError("onnx falhou"), None, 2.0) == "ValueError: onnx falhou"


# ---------------------------------------------------------------------------------------------
# Retrying
# ---------------------------------------------------------------------------------------------
def test_retries_transient_failures_then_succeeds(chat) -> None:
    fake, url = chat
    fake.fail_next(2, status=503)
    answer = call_with_retries(
        openai_call(url, fake.api_key),
        policy=FAST,
        name="test",
        describe=str,
        fail=lambda exc, detail, attempts: RuntimeError(detail),
    )
    assert answer.choices[0].message.content == "olá"
    assert [r["status"] for r in fake.requests] == [503, 503, 200]


def test_gives_up_with_the_callers_error_and_the_attempts_made(chat) -> None:
    fake, url = chat
    fake.fail_next(3, status=500)
    seen: list[tuple[BaseException, str, int]] = []

    def fail(exc: BaseException, detail: str, attempts: int) -> RuntimeError:
        seen.append((exc, detail, attempts))
        return RuntimeError(f"desisti: {detail}")

    exc = raised(
        lambda: call_with_retries(openai_call(url, fake.api_key), policy=FAST, name="t", describe=str, fail=fail)
    )
    [(last, _, attempts)] = seen
    assert attempts == 3 and len(fake.requests) == 3
    assert isinstance(exc, RuntimeError) and exc.__cause__ is last  # kept for the logs: it quotes no key

    fake.reset()
    fake.fail_next(1, status=400)
    seen.clear()
    raised(lambda: call_with_retries(openai_call(url, fake.api_key), policy=FAST, name="t", describe=str, fail=fail))
    assert seen[0][2] == 1 and len(fake.requests) == 1  # not retried


def test_own_errors_pass_through_untouched() -> None:
    class Mine(Exception):
        pass

    calls = []

    def fn():
        calls.append(1)
        raise Mine("nossa") from TimeoutError("would look transient")

    exc = raised(
        lambda: call_with_retries(
            fn, policy=FAST, name="t", describe=str, fail=lambda *a: RuntimeError(), own_errors=(Mine,)
        )
    )
    assert isinstance(exc, Mine) and calls == [1]


def test_retry_after_is_a_floor_with_a_cap() -> None:
    asked: list[float] = []

    async def answer(request: Request) -> JSONResponse:
        if asked:
            return JSONResponse(
                {"error": {"message": "busy"}}, status_code=429, headers={"retry-after": f"{asked.pop(0):g}"}
            )
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/", answer, methods=["GET"])])
    with serve_in_thread(app) as url:

        def get() -> httpx.Response:
            response = httpx.get(url + "/")
            response.raise_for_status()
            return response

        def timed(policy: RetryPolicy) -> float:
            started = time.monotonic()
            call_with_retries(get, policy=policy, name="t", describe=str, fail=lambda exc, d, n: RuntimeError(d))
            return time.monotonic() - started

        asked.append(0.4)
        assert timed(FAST) >= 0.4  # the server's wait, not the 0.01 s backoff
        asked.append(60)
        assert timed(RetryPolicy(attempts=2, base_seconds=0.01, max_retry_after_seconds=0.2)) < 2


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------
def test_redact_and_plain_secret() -> None:
    key = "sk-live-" + "9" * 24
    assert redact(f"Incorrect API key provided: {key}.", [key, None, ""]) == "Incorrect API key provided: ***."
    assert plain_secret(SimpleNamespace(get_secret_value=lambda: key)) == key
    assert plain_secret("") is None and plain_secret(None) is None


def test_a_key_quoted_by_a_provider_reaches_no_message_log_or_cause(caplog) -> None:
    key = "AIza-secret-" + "7" * 20
    calls = []

    def fn():
        calls.append(1)
        raise httpx.ConnectError(f"could not reach https://example.invalid/?key={key}")

    with caplog.at_level(logging.DEBUG):
        exc = raised(
            lambda: call_with_retries(
                fn,
                policy=FAST,
                name="test gemini",
                describe=lambda e: f"{type(e).__name__}: {e}",
                fail=lambda e, detail, attempts: RuntimeError(f"falhou ({attempts}x): {detail}"),
                secrets=[key],
            )
        )
    assert len(calls) == 3 and "attempt 1/3 failed" in caplog.text
    assert quotes_a_secret(httpx.ConnectError(key), [key])
    shown = "".join(traceback.format_exception(exc))
    assert "falhou (3x): ConnectError: could not reach https://example.invalid/?key=***" in shown
    assert key not in shown and key not in caplog.text
    assert exc.__cause__ is None  # the provider's own exception quotes the key: not kept


def test_policy_from_settings() -> None:
    s = SimpleNamespace(stt_max_attempts=5, stt_retry_base_seconds="", stt_timeout_seconds=None)
    assert RetryPolicy.from_settings(s, "stt", timeout_seconds=60.0) == RetryPolicy(
        attempts=5, base_seconds=0.5, timeout_seconds=60.0
    )
    assert RetryPolicy.from_settings(SimpleNamespace(), "tts") == RetryPolicy()
