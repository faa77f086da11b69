"""Reading a provider SDK's exception: its cause chain and a Retry-After hint (model and embedding
clients wrap httpx errors in their own types, sometimes twice)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential


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


def transport_errors() -> tuple[type[BaseException], ...]:
    """httpx's timeouts and network errors, and httpx2's (the SDKs use it when installed)."""
    import importlib

    classes: list[type[BaseException]] = []
    for module in ("httpx", "httpx2"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        cls = getattr(mod, "TransportError", None)
        if isinstance(cls, type):
            classes.append(cls)
    return tuple(classes)


def retryable_status(code: int | None) -> bool:
    return code is not None and (code in (408, 409, 429) or code >= 500)


def gemini_api_error(exc: BaseException):
    from google.genai import errors

    return next((e for e in exception_chain(exc) if isinstance(e, errors.APIError)), None)


def gemini_is_transient(exc: BaseException) -> bool:
    api_error = gemini_api_error(exc)
    if api_error is not None:
        return retryable_status(api_error.code)
    return any(isinstance(e, transport_errors()) for e in exception_chain(exc))


def describe_gemini_failure(
    exc: BaseException, *, where: str, timeout_seconds: float, hints: dict[int, str]
) -> str | None:
    """A short pt-BR description of a google-genai failure (None: not one we recognize)."""
    import json

    api_error = gemini_api_error(exc)
    if api_error is not None:
        message = str(api_error.message or "")[:300]
        details = json.dumps(api_error.details, default=str) if api_error.details else ""
        if "API_KEY_INVALID" in details or "API key not valid" in message:
            hint = "confira GEMINI_API_KEY"
        else:
            hint = {403: "a chave não tem acesso a este modelo", 429: "limite de uso ou cota excedida", **hints}.get(
                api_error.code, ""
            )
        return f"HTTP {api_error.code} {api_error.status or ''}: {message}".replace(" :", ":") + (
            f" ({hint})" if hint else ""
        )
    for e in exception_chain(exc):
        if "Timeout" in type(e).__name__:
            return f"sem resposta de {where} em {timeout_seconds:g}s"
        if isinstance(e, transport_errors()):
            return f"não foi possível conectar a {where} ({type(e).__name__}: {e})"
    return None


def openai_is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    if isinstance(exc, openai.APIStatusError):
        return retryable_status(exc.status_code)
    return isinstance(exc, transport_errors())


def describe_openai_failure(
    exc: BaseException, *, where: str, timeout_seconds: float, hints: dict[int, str]
) -> str | None:
    """A short pt-BR description of an openai SDK failure (None: not one we recognize)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"sem resposta de {where} em {timeout_seconds:g}s"
    if isinstance(exc, openai.APIConnectionError):
        return f"não foi possível conectar a {where} ({exc.__cause__ or exc})"
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
        message = str(err.get("message") or exc.message)[:300]
        base = {401: "confira OPENAI_API_KEY", 403: "a chave não tem acesso a este modelo"}
        hint = {**base, 429: "limite de uso ou cota excedida", **hints}.get(exc.status_code, "")
        return f"HTTP {exc.status_code}: {message}" + (f" ({hint})" if hint else "")
    return None


MAX_RETRY_AFTER_SECONDS = 10.0  # a longer Retry-After fails the call instead of stalling it


def provider_retrying(
    *,
    attempts: int,
    base_seconds: float,
    is_transient: Callable[[BaseException], bool],
    before_sleep: Callable[[RetryCallState], None],
) -> Retrying:
    """Retries of a provider call: transient failures only, exponential backoff from
    `base_seconds` (capped at 8x), or the server's Retry-After when it gives one (up to 10 s)."""
    base = max(0.0, base_seconds)
    backoff = wait_exponential(multiplier=base, min=base, max=base * 8)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc)
        return backoff(state) if asked is None else min(asked, MAX_RETRY_AFTER_SECONDS)

    return Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait,
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )


def quotes_a_secret(exc: BaseException, secrets: Sequence[str]) -> bool:
    """Whether any exception in the chain shows a secret (then it is not kept as the cause)."""
    shown = " ".join(f"{e!s} {e!r}" for e in exception_chain(exc))
    return any(secret in shown for secret in secrets if secret)
