"""HTTP plumbing shared by the adapters: one attempt, its failure classified for the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

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
