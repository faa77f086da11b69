"""One HTTP request to Google, retried the way Google asks (network errors, 429, 5xx, Drive's 403
rate limits, honouring Retry-After): the token endpoint and Drive share it, so a sync survives a
busy minute at Google instead of failing the whole folder."""

from __future__ import annotations

import time
from typing import Any

import httpx

from .errors import DriveError

RETRY_DELAYS = (1.0, 3.0)  # 429 / 5xx / network errors: waits before the 2nd and 3rd attempts
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "PilotoDeVendas/1.0 (+drive-sync)"


def send(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """One request, retried on network errors, 429, 5xx and Drive's 403 rate limits."""
    attempts = len(RETRY_DELAYS) + 1
    for attempt in range(attempts):
        last = attempt + 1 == attempts
        try:
            response = http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            if last:
                raise DriveError("Não foi possível falar com o Google agora; será tentado de novo.") from exc
            time.sleep(RETRY_DELAYS[attempt])
            continue
        if last or not _retryable(response):
            return response
        time.sleep(_retry_after(response, RETRY_DELAYS[attempt]))
    raise AssertionError("unreachable")


def _retryable(response: httpx.Response) -> bool:
    if response.status_code == 429 or response.status_code >= 500:
        return True
    return response.status_code == 403 and "ateLimitExceeded" in response.text  # (user)rateLimitExceeded


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", default)), 0.0), 30.0)
    except ValueError:
        return default
