"""Calling a provider (chat model, embeddings, speech-to-text, text-to-speech, vision) and reading
its failures, in one place: what a failure is (``classify``), whether another attempt may work,
how long to wait (exponential backoff, or the server's Retry-After), one ``call_with_retries``,
and keeping API keys out of every message, log line and kept cause (``redact``).

The SDKs wrap their httpx errors in their own types, sometimes twice (LangChain around openai or
google-genai): everything here reads the whole chain of causes, by the attributes the SDKs carry
(``status_code``, ``code``, ``body``, ``details``, ``response``); SDK classes are looked up only to
recognise transport errors.
The words shown to a person stay with each caller (a document's reason, a voice note's, the
agent's handoff reason); ``describe`` is the one shared wording for SDK failures of the knowledge
base and speech-to-text.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRY_AFTER_SECONDS = 10.0  # a longer Retry-After is cut to this: a call does not stall for minutes
NOT_CARRIED_OUT_STATUS = frozenset({429, 502, 503})  # answers that say the request was not carried out


# ---------------------------------------------------------------------------------------------
# The retry policy
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in all, the first included
    base_seconds: float = 0.5  # first backoff; doubles, capped at 8x
    timeout_seconds: float = 30.0  # per attempt
    max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS  # a server's Retry-After is honoured up to this

    @classmethod
    def from_settings(
        cls, settings: Any, prefix: str, *, attempts: int = 3, base_seconds: float = 0.5, timeout_seconds: float = 30.0
    ) -> RetryPolicy:
        """The policy in ``{PREFIX}_MAX_ATTEMPTS``, ``{PREFIX}_RETRY_BASE_SECONDS`` and
        ``{PREFIX}_TIMEOUT_SECONDS`` (a missing or empty one takes the default given here)."""

        def read(name: str, default: float) -> Any:
            value = getattr(settings, f"{prefix}_{name}", None)
            return default if value is None or value == "" else value

        return cls(
            attempts=int(read("max_attempts", attempts)),
            base_seconds=float(read("retry_base_seconds", base_seconds)),
            timeout_seconds=float(read("timeout_seconds", timeout_seconds)),
        )


def provider_retrying(
    *,
    attempts: int,
    base_seconds: float,
    is_transient: Callable[[BaseException], bool],
    before_sleep: Callable[[RetryCallState], None],
    max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS,
) -> Retrying:
    """Retries of a provider call: transient failures only, exponential backoff from
    `base_seconds` (capped at 8x), and never sooner than the server's Retry-After (honoured up to
    `max_retry_after_seconds`)."""
    base = max(0.0, base_seconds)
    backoff = wait_exponential(multiplier=base, min=base, max=base * 8)

    def wait(state: RetryCallState) -> float:
        asked = retry_after_seconds(state.outcome.exception() if state.outcome else None)
        seconds = backoff(state)
        return seconds if asked is None else max(seconds, min(asked, max_retry_after_seconds))

    return Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait,
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    name: str,
    describe: Callable[[BaseException], str],
    fail: Callable[[BaseException, str, int], BaseException],
    secrets: Sequence[str | None] = (),
    retryable: Callable[[BaseException], bool] | None = None,
    own_errors: tuple[type[BaseException], ...] = (),
) -> T:
    """``fn()``, retried on transient failures under `policy`. After the last attempt raises
    ``fail(last exception, its description with the secrets redacted, attempts made)``, whose
    cause is that exception unless something in its chain quotes a secret. `own_errors` (the
    caller's error types, raised by `fn` itself) are never retried and pass through as they are.
    `retryable` decides what is retried (``is_transient`` unless told); `name` heads the warning
    logged before each retry."""
    transient = retryable or is_transient
    hidden = [s for s in secrets if s]
    made = 0

    def attempt() -> T:
        nonlocal made
        made += 1
        return fn()

    def retry_on(exc: BaseException) -> bool:
        return not isinstance(exc, own_errors) and transient(exc)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: attempt %d/%d failed (%s); retrying in %.2fs",
            name,
            state.attempt_number,
            policy.attempts,
            redact(describe(exc), hidden) if exc else "?",
            state.next_action.sleep if state.next_action else 0.0,
        )

    retrying = provider_retrying(
        attempts=policy.attempts,
        base_seconds=policy.base_seconds,
        is_transient=retry_on,
        before_sleep=log_retry,
        max_retry_after_seconds=policy.max_retry_after_seconds,
    )
    try:
        return retrying(attempt)
    except own_errors:
        raise
    except Exception as exc:
        error = fail(exc, redact(describe(exc), hidden), made)
        if error is exc:
            raise
        # keep the cause for the logs, unless some exception in it quotes a secret
        raise error from (None if quotes_a_secret(exc, hidden) else exc)


def exhausted_note(exc: BaseException, attempts: int) -> str:
    """What the knowledge base and speech-to-text add to a reason when retrying did not help."""
    if attempts > 1 and is_transient(exc):
        return f" (falhou {attempts} vezes seguidas; tente de novo mais tarde)"
    return ""


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------
def plain_secret(value: Any) -> str | None:
    """The text of a setting that holds a secret (a SecretStr or a str); None when empty."""
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return str(value) or None


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """`text` with every secret in it replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def quotes_a_secret(exc: BaseException, secrets: Sequence[str | None]) -> bool:
    """Whether any exception in the chain shows a secret (then it is not kept as the cause)."""
    shown = " ".join(f"{e!s} {e!r}" for e in exception_chain(exc))
    return any(secret in shown for secret in secrets if secret)


# ---------------------------------------------------------------------------------------------
# Reading a failure
# ---------------------------------------------------------------------------------------------
class FailureKind(StrEnum):
    CONFIG = "config"  # refused before anything was sent (the egress guard): retrying cannot help
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"  # OpenAI's insufficient_quota: no later try works until someone pays
    SERVER_ERROR = "server_error"  # 408, 409, 5xx
    AUTH = "auth"  # 401, 403, or the provider says the API key is not valid
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"
    ERROR = "error"  # none of the above (a bug, an SDK's own complaint)


TRANSIENT = frozenset({FailureKind.TIMEOUT, FailureKind.CONNECTION, FailureKind.RATE_LIMIT, FailureKind.SERVER_ERROR})


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    status: int | None = None  # the HTTP status, when the server answered
    status_text: str = ""  # Google's status name (RESOURCE_EXHAUSTED, UNAVAILABLE...)
    message: str = ""  # the provider's own words (redact before showing them)
    key_rejected: bool = False  # 401, or the provider said the API key is not valid
    source: BaseException | None = field(default=None, compare=False, repr=False)  # the exception that decided

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds from a Retry-After header on the failed response (429/503), when it has one."""
    for e in exception_chain(exc):
        headers = getattr(getattr(e, "response", None), "headers", None)
        value = headers.get("retry-after") if hasattr(headers, "get") else None
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


@cache
def _classes(*names: str) -> tuple[type[BaseException], ...]:
    """The named exception classes ("module.Class") that are importable."""
    found: list[type[BaseException]] = []
    for name in names:
        module, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def transport_errors() -> tuple[type[BaseException], ...]:
    """Network errors and timeouts: httpx's and httpx2's (the SDKs use it when installed), the
    openai SDK's connection error, the socket's."""
    return (
        ConnectionError,
        *_classes("httpx.TransportError", "httpx2.TransportError", "openai.APIConnectionError"),
    )


def _status(exc: BaseException) -> int | None:
    """The HTTP status of an SDK error: openai's ``status_code``, google-genai's ``code``, an httpx
    HTTPStatusError's response."""
    for value in (
        getattr(exc, "status_code", None),
        getattr(exc, "code", None),
        getattr(getattr(exc, "response", None), "status_code", None),
    ):
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    return None


def _error_body(exc: BaseException) -> dict[str, Any]:
    """The error object of the provider's JSON answer (``{"error": {...}}`` or the object itself)."""
    body = getattr(exc, "body", None) or getattr(exc, "details", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        return inner if isinstance(inner, dict) else {}
    return {}


def _message(exc: BaseException) -> str:
    message = _error_body(exc).get("message") or getattr(exc, "message", None)
    return message if isinstance(message, str) else ""


def classify(exc: BaseException | None) -> Failure:
    """What a failed call ran into: the egress guard's refusal first, then the first HTTP status or
    timeout in the chain of causes, then LangChain's error classes and transport errors."""
    from runtime.egress import EgressRefused

    chain = exception_chain(exc)
    refused = next((e for e in chain if isinstance(e, EgressRefused)), None)
    if refused is not None:
        return Failure(FailureKind.CONFIG, message=str(refused), source=refused)
    for e in chain:
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return Failure(FailureKind.TIMEOUT, message=_message(e), source=e)
        status = _status(e)
        if status is not None:
            return _answered(e, status)
    message = next((m for m in map(_message, chain) if m), "")
    for e in chain:
        kind = _langchain_kind(e)
        if kind is not None:
            return Failure(kind, message=message, source=e)
        if isinstance(e, transport_errors()):
            return Failure(FailureKind.CONNECTION, message=message, source=e)
    return Failure(FailureKind.ERROR, message=message, source=chain[0] if chain else None)


def _answered(exc: BaseException, status: int) -> Failure:
    body = _error_body(exc)
    message = _message(exc)
    status_text = body.get("status") if isinstance(body.get("status"), str) else ""
    key_rejected = status == 401 or "API_KEY_INVALID" in str(body) or "API key not valid" in f"{body} {message}"
    if status == 429:
        kind = FailureKind.QUOTA if body.get("code") == "insufficient_quota" else FailureKind.RATE_LIMIT
    elif status in (408, 409) or status >= 500:
        kind = FailureKind.SERVER_ERROR
    elif status in (401, 403) or key_rejected:
        kind = FailureKind.AUTH
    elif status == 404:
        kind = FailureKind.NOT_FOUND
    else:
        kind = FailureKind.BAD_REQUEST
    return Failure(kind, status, status_text, message, key_rejected, exc)


def _langchain_kind(exc: BaseException) -> FailureKind | None:
    """The kind LangChain's provider-neutral error classes say (they carry no status of their own)."""
    from langchain_core import exceptions as lc

    if not isinstance(exc, lc.ModelError):
        return None
    for cls, kind in (
        (lc.ContextOverflowError, FailureKind.BAD_REQUEST),
        (lc.ModelAuthenticationError, FailureKind.AUTH),
        (lc.ModelPermissionDeniedError, FailureKind.AUTH),
        (lc.ModelNotFoundError, FailureKind.NOT_FOUND),
        (lc.ModelRateLimitError, FailureKind.RATE_LIMIT),
        (lc.ModelTimeoutError, FailureKind.TIMEOUT),
        (lc.ModelConnectionError, FailureKind.CONNECTION),
        (lc.ModelAPIError, FailureKind.SERVER_ERROR),
    ):
        if isinstance(exc, cls):
            return kind
    return FailureKind.SERVER_ERROR if exc.is_retryable else FailureKind.BAD_REQUEST


def is_transient(exc: BaseException) -> bool:
    """Whether another attempt may succeed (timeouts, connection errors, 408/409/429/5xx)."""
    return classify(exc).transient


def not_carried_out(exc: BaseException) -> bool:
    """Whether the failure shows the request was not carried out (429, 502, 503, or a connection
    that never opened): what a request that is not idempotent may be retried on."""
    status = classify(exc).status
    if status is not None:
        return status in NOT_CARRIED_OUT_STATUS
    never_connected = _classes(
        "httpx.ConnectError", "httpx.ConnectTimeout", "httpx2.ConnectError", "httpx2.ConnectTimeout"
    )
    return any(isinstance(e, never_connected) for e in exception_chain(exc))


@dataclass(frozen=True)
class Endpoint:
    """Where an SDK client's requests go, as its failures are told: the host, the setting that
    holds the API key, and what to fix by HTTP status (added to, or instead of, the usual hints)."""

    where: str
    key_setting: str
    hints: Mapping[int, str] = field(default_factory=dict)


def describe(exc: BaseException, endpoint: Endpoint | None, timeout_seconds: float) -> str:
    """A short pt-BR description of an SDK failure: a timeout, a connection that failed, or the
    provider's answer with a hint of what to fix; else the exception's type and text. `endpoint`
    None: an in-process model, whose exceptions are told as they are."""
    if endpoint is None:
        return f"{type(exc).__name__}: {exc}"
    failure = classify(exc)
    if failure.kind is FailureKind.TIMEOUT:
        return f"sem resposta de {endpoint.where} em {timeout_seconds:g}s"
    if failure.status is not None:
        if failure.key_rejected:
            hint = f"confira {endpoint.key_setting}"
        else:
            usual = {403: "a chave não tem acesso a este modelo", 429: "limite de uso ou cota excedida"}
            hint = {**usual, **endpoint.hints}.get(failure.status, "")
        head = " ".join(p for p in (f"HTTP {failure.status}", failure.status_text) if p)
        return f"{head}: {failure.message[:300]}" + (f" ({hint})" if hint else "")
    if failure.kind is FailureKind.CONNECTION:
        chain = exception_chain(exc)
        inner = next(
            (e for e in chain if isinstance(e, _classes("httpx.TransportError", "httpx2.TransportError"))), None
        )
        inner = inner or next((e for e in chain if isinstance(e, transport_errors())), exc)
        return f"não foi possível conectar a {endpoint.where} ({type(inner).__name__}: {inner})"
    return f"{type(exc).__name__}: {exc}"
