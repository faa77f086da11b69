"""HTTP plumbing shared by the adapters: one attempt, its failure classified for the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from runtime import egress
from runtime.config import get_settings

from .base import MediaError, SendError, SendFailure

# Answers that prove the provider did not take the request, so sending again cannot double it:
# 429 (rate limited), 503 with Retry-After (down for a while, come back), 408/425 (the server gave
# up on or declined the request before processing it). Any other 5xx may come after the message
# went out (a gateway timing out on a slow backend): that send's fate is unknown.
RETRYABLE_STATUS = frozenset({408, 425, 429})
# Errors raised before a single byte of the request reached the provider.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_NOT_SENDABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)


async def send_request(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request for a send. Unless the provider answered 2xx, raises SendError whose `failure`
    says whether the provider may have the message (see SendFailure)."""
    try:
        resp = await http.request(method, url, **kwargs)
    except egress.EgressRefused as exc:  # an internal address: refused before any connection, for good
        raise SendError(str(exc), failure=SendFailure.refused) from exc
    except _NEVER_SENT as exc:
        raise SendError(f"connection error: {type(exc).__name__}", failure=SendFailure.retry) from exc
    except _NOT_SENDABLE as exc:
        raise SendError(f"invalid request: {type(exc).__name__}", failure=SendFailure.refused) from exc
    except httpx.TimeoutException as exc:  # read/write timeout: the request may have been processed
        raise SendError(f"timeout: {type(exc).__name__}", failure=SendFailure.unknown) from exc
    except httpx.TransportError as exc:  # connection dropped mid-exchange
        raise SendError(f"connection lost: {type(exc).__name__}", failure=SendFailure.unknown) from exc
    if resp.is_success:
        return resp
    retry_after = _retry_after(resp.headers.get("retry-after"))
    status = resp.status_code
    if status in RETRYABLE_STATUS or (status == 503 and retry_after is not None):
        failure = SendFailure.retry
    elif status >= 500:
        failure = SendFailure.unknown
    else:
        failure = SendFailure.refused
    raise SendError(f"HTTP {status}: {resp.text[:500]}", failure=failure, status_code=status, retry_after=retry_after)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def fetch_media(url: str, *, headers: dict[str, str] | None = None, auth: Any = None) -> egress.Fetched:
    """GET a lead's media through the egress guard (runtime.egress): internal addresses refused at
    every redirect hop, at most MEDIA_MAX_BYTES, within MEDIA_DOWNLOAD_TIMEOUT_SECONDS; `headers`
    and `auth` never follow a redirect to another origin. Any failure is a MediaError whose message
    (pt-BR, shown to the seller) says why and what to do."""
    settings = get_settings()
    try:
        return await egress.fetch(
            url,
            max_bytes=settings.media_max_bytes,
            deadline_seconds=settings.media_download_timeout_seconds,
            headers=headers,
            auth=auth,
        )
    except egress.FetchError as exc:
        raise MediaError(_media_failure(exc)) from exc


def _media_failure(exc: egress.FetchError) -> str:
    failure = egress.Failure
    if exc.failure == failure.blocked:
        return (
            "Arquivo não baixado: o endereço dele aponta para uma rede interna ou local, o que não é "
            "permitido. Peça ao cliente que envie o arquivo de novo."
        )
    if exc.failure == failure.too_large:
        return (
            f"Arquivo maior que o limite de {egress.format_size(exc.limit)}: não foi baixado. "
            "Peça ao cliente um arquivo menor."
        )
    if exc.failure == failure.timeout:
        return "Tempo esgotado ao baixar o arquivo do provedor. Peça ao cliente que envie de novo."
    if exc.failure == failure.http_status:
        return f"O provedor não entregou o arquivo (HTTP {exc.status_code}); o link pode ter expirado."
    if exc.failure == failure.too_many_redirects:
        return "O endereço do arquivo redirecionou vezes demais: não foi baixado."
    return f"Não foi possível baixar o arquivo de {exc.host or 'o provedor'}. Tente de novo mais tarde."


def from_epoch(value: Any) -> datetime:
    """Provider timestamps come as epoch seconds or milliseconds, as numbers or strings."""
    ts = float(value)
    if ts > 1e11:  # milliseconds
        ts /= 1000
    return datetime.fromtimestamp(ts, UTC)
