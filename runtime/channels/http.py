"""HTTP plumbing shared by the adapters: one attempt, its failure classified for the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

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


async def fetch_media(http: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    """GET media bytes; any failure is a MediaError with the reason."""
    try:
        resp = await http.get(url, follow_redirects=True, **kwargs)
    except httpx.HTTPError as exc:
        raise MediaError(f"media download failed: {type(exc).__name__}") from exc
    if not resp.is_success:
        raise MediaError(f"media download failed: HTTP {resp.status_code}")
    return resp


def from_epoch(value: Any) -> datetime:
    """Provider timestamps come as epoch seconds or milliseconds, as numbers or strings."""
    ts = float(value)
    if ts > 1e11:  # milliseconds
        ts /= 1000
    return datetime.fromtimestamp(ts, UTC)
