"""HTTP plumbing shared by the adapters: one attempt, its failure classified for the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from runtime import egress
from runtime.config import get_settings

from .base import MediaError, SendError

# What a provider's temporary trouble looks like: retry these, nothing else.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


async def send_request(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request for a send. Raises SendError(retryable=...) unless the provider answered 2xx."""
    try:
        resp = await http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise SendError(f"timeout: {type(exc).__name__}", retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendError(f"connection error: {type(exc).__name__}", retryable=True) from exc
    if resp.is_success:
        return resp
    raise SendError(
        f"HTTP {resp.status_code}: {resp.text[:500]}",
        retryable=resp.status_code in RETRYABLE_STATUS,
        status_code=resp.status_code,
    )


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
