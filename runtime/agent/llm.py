"""The agent's chat model: building it from an agent's ``LLMSettings`` and calling it reliably.

``build_chat_model(llm, api_key)`` returns a LangChain chat model, or None for provider ``none``
(the agent then answers with fixed flows and the knowledge base only):

* ``gemini``: ``ChatGoogleGenerativeAI`` (Gemini Developer API, never Vertex AI). ``base_url``
  points it at a proxy or a local fake.
* ``openai``: ``ChatOpenAI`` against OpenAI, or any OpenAI-compatible server at ``base_url``
  (Groq, OpenRouter, vLLM, llama.cpp, LM Studio...). Chat Completions API, never the Responses API,
  so every compatible server works. Local servers need no key: a placeholder is sent.
* ``ollama``: Ollama's OpenAI-compatible endpoint (``http://localhost:11434/v1`` by default)
  through the same ``ChatOpenAI``. Not ``langchain-ollama``: that would be one more dependency for
  what the compatible endpoint already does (chat, tool calls, token usage).

A custom ``base_url`` (and Ollama's default, a loopback address) is the owner's choice of server, so
its client goes through the egress guard (``runtime.egress``: internal addresses are refused at
connection time, unless EGRESS_ALLOW_PRIVATE_NETWORKS allows them); saving one is checked by
``check_endpoint``. The providers' public defaults keep the SDKs' own clients (and their proxy
settings). ``endpoint(llm)`` is where the API key goes: a key is re-typed when it changes.

The SDKs' own retries are off (``max_retries=0`` for OpenAI; ``1`` attempt for google-genai, where
0 would mean "the SDK default"): ``invoke_with_tools`` retries, with one policy for every provider.

``invoke_with_tools(model, messages, tools, timeout_seconds=..., max_retries=...)`` binds the tools,
runs each attempt in its own daemon thread and waits at most ``timeout_seconds`` for it (the SDK
timeout alone does not bound a connection that trickles bytes, nor a hung proxy), retries transient
failures (our timeout, connection errors, 408/409/429/5xx) with short exponential backoff
(``runtime.provider_errors``, the policy and failure reading every provider call shares), and
raises ``LLMUnavailable`` after the last attempt, or at once for what retrying cannot fix (401,
403, 400, 404, an exhausted quota). The worst case is about
``(max_retries + 1) * timeout_seconds`` plus the backoffs. A timed-out attempt's thread is
abandoned, not killed; the SDK's own timeout (the same ``timeout_seconds``) ends it soon after.

Error messages are in pt-BR (the owner sees them) and never contain the API key.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, SecretStr

from db.models import Agent
from runtime import crypto
from runtime.agent.settings import AgentSettings, LLMSettings
from runtime.provider_errors import FailureKind, RetryPolicy, call_with_retries, classify, exception_chain, redact

DEFAULT_MODELS = {
    "gemini": "gemini-2.5-flash",
    "openai": "gpt-4o-mini",
    "ollama": "llama3.1:8b",  # tool calling, and Portuguese among its supported languages
}
OPENAI_BASE_URL = "https://api.openai.com/v1"
OLLAMA_BASE_URL = "http://localhost:11434/v1"
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"  # google-genai's default (Developer API)
NO_KEY = "not-needed"  # sent to servers that want no key (Ollama, llama.cpp, vLLM without --api-key)
MAX_RETRY_AFTER_SECONDS = 8.0  # a server's Retry-After is honoured up to this


class LLMUnavailable(Exception):
    """The model could not answer: misconfigured, refused, or down. ``reason`` is one of
    config, timeout, connection, rate_limit, quota, server_error, auth, bad_request, not_found,
    unsupported, error; ``status`` the HTTP status when there was one; ``transient`` whether a
    later try may work. The message (pt-BR) never contains the API key."""

    def __init__(self, message: str, *, reason: str = "error", status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.attempts = attempts

    @property
    def transient(self) -> bool:
        return self.reason in ("timeout", "connection", "rate_limit", "server_error")


@dataclass(frozen=True)
class LLMResult:
    message: AIMessage  # with .tool_calls when the model asked for tools
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 1

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return list(self.message.tool_calls)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
def build_chat_model(llm: LLMSettings, api_key: str | None) -> BaseChatModel | None:
    """The chat model an agent's settings describe, or None for provider "none". Raises
    LLMUnavailable (reason "config") when it cannot work: a hosted API without a key."""
    provider = llm.provider
    if provider == "none":
        return None
    if provider not in DEFAULT_MODELS:
        raise LLMUnavailable(f"provedor de LLM desconhecido: {provider!r}", reason="config")
    model = llm.model.strip() or DEFAULT_MODELS[provider]
    base_url = (llm.base_url or "").strip().rstrip("/") or None
    key = (api_key or "").strip() or None

    if provider == "gemini":
        if key is None and base_url is None:
            raise LLMUnavailable("o provedor gemini precisa de uma chave de API (Google AI Studio)", reason="config")
        from langchain_google_genai import ChatGoogleGenerativeAI

        from runtime import egress

        return ChatGoogleGenerativeAI(
            model=model,
            api_key=SecretStr(key or NO_KEY),
            base_url=base_url,
            vertexai=False,
            temperature=llm.temperature,
            timeout=llm.timeout_seconds,  # sent per request as google-genai's timeout
            max_retries=1,  # one attempt: google-genai reads 0 as "its default" (5 retries)
            # google-genai gives these to both its sync and its async httpx client.
            client_args={"transport": egress.DualGuardedTransport()} if base_url else None,
        )

    if provider == "openai" and key is None and base_url is None:
        raise LLMUnavailable(
            "o provedor openai precisa de uma chave de API (ou de base_url de um servidor compatível)",
            reason="config",
        )
    from langchain_openai import ChatOpenAI

    from runtime import egress

    default_url = OPENAI_BASE_URL if provider == "openai" else OLLAMA_BASE_URL
    guarded = base_url is not None or provider == "ollama"
    return ChatOpenAI(
        model=model,
        base_url=base_url or default_url,  # explicit: OPENAI_BASE_URL in the environment is not the agent's
        api_key=SecretStr(key or NO_KEY),
        temperature=llm.temperature,
        timeout=llm.timeout_seconds,
        max_retries=0,
        use_responses_api=False,  # Chat Completions: what every compatible server speaks
        http_client=egress.shared_client() if guarded else None,
        http_async_client=egress.shared_async_client() if guarded else None,
    )


def endpoint(llm: LLMSettings) -> str | None:
    """The URL the agent's API key is sent to (None for provider "none")."""
    if llm.provider == "none":
        return None
    base_url = (llm.base_url or "").strip().rstrip("/")
    return base_url or {"gemini": GEMINI_BASE_URL, "openai": OPENAI_BASE_URL}.get(llm.provider, OLLAMA_BASE_URL)


def check_endpoint(llm: LLMSettings) -> None:
    """Refuse (LLMUnavailable, reason "config", pt-BR) a server the egress guard would refuse, when
    the owner saves it: a custom base_url, or Ollama's default (loopback). Hosts that do not
    resolve now pass (the guard checks again at every connection)."""
    from runtime import egress

    url = endpoint(llm)
    if url is None or (not llm.base_url and llm.provider != "ollama"):
        return
    try:
        egress.check_url(url)
    except egress.EgressRefused as exc:
        raise LLMUnavailable(_refused_text(exc.host), reason="config") from exc
    except ValueError as exc:
        raise LLMUnavailable(f"URL do servidor do modelo inválida: {exc}", reason="config") from exc


def _refused_text(host: str) -> str:
    return (
        f"servidor do modelo não permitido: {host} aponta para uma rede interna ou local. Use o endereço "
        "público do servidor (quem administra a instalação pode liberar um servidor interno em "
        "EGRESS_ALLOW_PRIVATE_NETWORKS)."
    )


# ---------------------------------------------------------------------------------------------
# Calling
# ---------------------------------------------------------------------------------------------
class _AttemptTimeout(TimeoutError):
    """An attempt did not finish within the hard timeout."""


def count_usage(messages: BaseMessage | Iterable[BaseMessage]) -> tuple[int, int]:
    """(input_tokens, output_tokens) from the ``usage_metadata`` of one AI message or summed over
    several (0 where absent; non-AI messages count 0)."""
    items = [messages] if isinstance(messages, BaseMessage) else list(messages)
    tokens_in = tokens_out = 0
    for message in items:
        usage = getattr(message, "usage_metadata", None) or {}
        tokens_in += int(usage.get("input_tokens") or 0)
        tokens_out += int(usage.get("output_tokens") or 0)
    return tokens_in, tokens_out


def invoke_with_tools(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    tools: Sequence[Any] | None = None,
    *,
    timeout_seconds: float,
    max_retries: int,
    backoff_seconds: float = 0.5,
) -> LLMResult:
    """One model turn: ``model`` (with ``tools`` bound, when given: LangChain tools, functions or
    OpenAI-style schemas) answers ``messages``. Each attempt gets ``timeout_seconds``; transient
    failures are retried ``max_retries`` times, waiting ``backoff_seconds``, doubling (at most 8x).
    Raises LLMUnavailable. Synchronous: call it from a worker thread."""
    secrets = _secrets_of(model)
    label = _label(model)
    try:
        runnable: Any = model.bind_tools(list(tools)) if tools else model
    except NotImplementedError as exc:
        raise LLMUnavailable(f"{label}: este modelo não aceita ferramentas", reason="unsupported") from exc
    except Exception as exc:  # a tool whose schema cannot be built
        raise LLMUnavailable(f"{label}: ferramentas inválidas ({type(exc).__name__}: {exc})"[:400]) from exc
    prompt = list(messages)
    policy = RetryPolicy(
        attempts=max(1, int(max_retries) + 1),
        base_seconds=float(backoff_seconds),
        timeout_seconds=float(timeout_seconds),
        max_retry_after_seconds=MAX_RETRY_AFTER_SECONDS,
    )
    made = 0

    def attempt() -> Any:
        nonlocal made
        made += 1
        return _call_with_deadline(runnable.invoke, prompt, policy.timeout_seconds)

    result = call_with_retries(
        attempt,
        policy=policy,
        name=label,
        describe=lambda exc: _describe(exc, policy.timeout_seconds),
        fail=lambda exc, detail, attempts: _unavailable(exc, detail, label=label, secrets=secrets, attempts=attempts),
        secrets=secrets,
    )
    if not isinstance(result, AIMessage):
        raise LLMUnavailable(f"{label}: resposta inesperada ({type(result).__name__})", attempts=made)
    tokens_in, tokens_out = count_usage(result)
    return LLMResult(message=result, input_tokens=tokens_in, output_tokens=tokens_out, attempts=made)


def _call_with_deadline(fn: Callable[[Any], Any], arg: Any, timeout: float) -> Any:
    """fn(arg) in a daemon thread (with the caller's context variables: callbacks, tracing),
    waited on for at most `timeout` seconds."""
    future: Future[Any] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(context.run(fn, arg))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="llm-call", daemon=True).start()
    try:
        return future.result(timeout=timeout)
    except TimeoutError as exc:
        if future.done():  # the call itself raised a timeout
            raise
        raise _AttemptTimeout(f"no answer in {timeout:g}s") from exc


# ---------------------------------------------------------------------------------------------
# Describing a failure
# ---------------------------------------------------------------------------------------------
_PREFIXES = {
    FailureKind.CONNECTION: "não foi possível conectar",
    FailureKind.RATE_LIMIT: "limite de uso excedido",
    FailureKind.SERVER_ERROR: "erro no servidor do provedor",
    FailureKind.NOT_FOUND: "modelo ou endereço não encontrado (confira o modelo e a base_url)",
    FailureKind.BAD_REQUEST: "o provedor recusou o pedido",
}


def _describe(exc: BaseException, timeout: float) -> str:
    """A short pt-BR description of a failure (the agent's handoff reason shows it)."""
    failure = classify(exc)
    kind, status = failure.kind, failure.status
    if kind is FailureKind.TIMEOUT:
        if any(isinstance(e, _AttemptTimeout) for e in exception_chain(exc)):
            return f"sem resposta em {timeout:g}s"
        return "tempo esgotado esperando o provedor"
    if kind is FailureKind.AUTH:
        return f"HTTP {status}: chave de API recusada ou sem acesso a este modelo (confira a chave do agente)"
    if kind is FailureKind.QUOTA:
        return f"HTTP {status}: cota esgotada (confira o plano/créditos da conta do provedor)"
    if kind is FailureKind.CONFIG:
        return _refused_text(getattr(failure.source, "host", ""))
    detail = " ".join((failure.message or f"{type(exc).__name__}: {exc}").split())[:300]
    prefix = _PREFIXES.get(kind, "falha")
    where = f"HTTP {status} " if status else ""
    return f"{where}{prefix}: {detail}" if detail else f"{where}{prefix}"


def _unavailable(
    exc: BaseException, detail: str, *, label: str, secrets: Sequence[str], attempts: int
) -> LLMUnavailable:
    if isinstance(exc, LLMUnavailable):
        exc.attempts = attempts
        return exc
    failure = classify(exc)
    text = f"{label} indisponível: {detail}" + (f" ({attempts} tentativas)" if attempts > 1 else "")
    return LLMUnavailable(redact(text, secrets), reason=failure.kind, status=failure.status, attempts=attempts)


def _secrets_of(model: Any) -> list[str]:
    """The SecretStr values among the model's fields (its API key)."""
    found: list[str] = []
    for _, value in model if isinstance(model, BaseModel) else ():
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if secret and secret != NO_KEY:
                found.append(secret)
    return found


def _label(model: Any) -> str:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    kind = {"ChatOpenAI": "openai", "ChatGoogleGenerativeAI": "gemini"}.get(type(model).__name__, type(model).__name__)
    return f"LLM {kind} ({name})" if isinstance(name, str) and name else f"LLM {kind}"


# --- the agent's chat model -------------------------------------------------------------------

# Tests and the terminal chat may supply the chat model (a scripted one); production builds it.
_model_factory: Callable[[Agent, AgentSettings], Any] | None = None


def use_chat_model(factory: Callable[[Agent, AgentSettings], Any] | None) -> None:
    """Inject how chat models are made (None: from the agent's LLM settings)."""
    global _model_factory
    _model_factory = factory


def chat_model_for(agent: Agent, settings: AgentSettings) -> Any:
    if _model_factory is not None:
        return _model_factory(agent, settings)
    key = crypto.decrypt(agent.llm_api_key_encrypted) if agent.llm_api_key_encrypted else None
    return build_chat_model(settings.llm, key)


def model_label(settings: AgentSettings) -> str:
    """ "provider:model" as configured, e.g. "gemini:gemini-2.5-flash" (empty model = the default)."""
    llm = settings.llm
    return f"{llm.provider}:{llm.model.strip() or DEFAULT_MODELS.get(llm.provider, '')}"


def build_model(agent: Agent, settings: AgentSettings) -> tuple[Any, str | None]:
    """(chat model, None), or (None, why) when the agent's model can't be built (no API key, unknown
    provider): the turn then hands off with that reason instead of failing."""
    try:
        return chat_model_for(agent, settings), None
    except LLMUnavailable as exc:
        return None, str(exc)
