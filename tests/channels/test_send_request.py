"""What a failed send means (channels.http.send_request), against a real local HTTP server: only
what provably never reached the provider may be retried; a timeout or a 5xx after the request
went out may have reached the lead, so it is 'unknown', never retried by itself."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.channels.base import SendError, SendFailure
from runtime.channels.http import send_request
from tests.fakes.servers import free_port, serve_in_thread

received: list[str] = []


async def answer(request: Request) -> Response:
    received.append(request.path_params["case"])
    case = request.path_params["case"]
    if case == "slow":
        await asyncio.sleep(2)
        return JSONResponse({"id": "late"})
    if case == "ok":
        return JSONResponse({"id": "m1"})
    status, _, extra = case.partition("-")
    headers = {}
    if extra == "after":
        headers["Retry-After"] = "7"
    elif extra == "date":
        headers["Retry-After"] = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    return JSONResponse({"error": case}, status_code=int(status), headers=headers)


@pytest.fixture(scope="module")
def server():
    app = Starlette(routes=[Route("/{case}", answer, methods=["POST"])])
    with serve_in_thread(app) as url:
        yield url


def fail(url: str, timeout: float = 5.0) -> SendError:
    async def go():
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=2.0)) as http:
            await send_request(http, "POST", url, json={"text": "oi"})

    with pytest.raises(SendError) as exc:
        asyncio.run(go())
    return exc.value


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ("429", SendFailure.retry),
        ("503-after", SendFailure.retry),
        ("408", SendFailure.retry),
        ("503", SendFailure.unknown),
        ("500", SendFailure.unknown),
        ("502", SendFailure.unknown),
        ("504", SendFailure.unknown),
        ("400", SendFailure.refused),
        ("401", SendFailure.refused),
        ("404", SendFailure.refused),
    ],
)
def test_answers_are_classified(server, case, failure):
    error = fail(f"{server}/{case}")
    assert error.failure is failure and error.retryable is (failure is SendFailure.retry)
    assert error.status_code == int(case[:3])


def test_retry_after_is_read_as_seconds_or_a_date(server):
    assert fail(f"{server}/429-after").retry_after == 7
    assert 25 < fail(f"{server}/503-date").retry_after <= 30
    assert fail(f"{server}/429").retry_after is None


def test_a_read_timeout_after_the_request_went_out_is_unknown(server):
    received.clear()
    t0 = time.monotonic()
    error = fail(f"{server}/slow", timeout=0.3)
    assert time.monotonic() - t0 < 1.5
    assert received == ["slow"]  # the provider got it
    assert error.failure is SendFailure.unknown and not error.retryable and "timeout" in error.detail


def test_no_connection_is_retryable():
    error = fail(f"http://127.0.0.1:{free_port()}/x")  # nothing listens there
    assert error.failure is SendFailure.retry and "connection" in error.detail


def test_success_returns_the_response(server):
    async def go():
        async with httpx.AsyncClient() as http:
            return await send_request(http, "POST", f"{server}/ok", json={})

    assert asyncio.run(go()).json() == {"id": "m1"}


def test_a_send_to_an_internal_address_is_refused_for_good_not_retried(server):
    """The egress guard refuses the channel's internal api_base_url before connecting: nothing was
    sent and trying again cannot help, so the send fails with the guard's reason at once."""
    from runtime import egress

    received.clear()

    async def go():
        async with egress.async_client(allowance=egress.Allowance()) as http:
            await send_request(http, "POST", f"{server}/ok", json={"text": "oi"})

    with pytest.raises(SendError) as exc:
        asyncio.run(go())
    assert exc.value.failure is SendFailure.refused and not exc.value.retryable
    assert received == []
