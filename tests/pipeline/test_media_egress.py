"""SSRF with read-back through a lead's media, end to end: a Z-API webhook whose ``documentUrl`` (and
a Cloud API media lookup whose ``url``) points at, or redirects to, an internal address. Real service
over HTTP, real worker, real egress guard. Loopback stands for the internal network: the test run
allows loopback for its fakes, and these tests narrow that to the fake provider and the attacker's
"public" host, so the internal server (another loopback port), 10.0.0.1 and 169.254.169.254 are
refused. The secret must never reach storage, the message or the inbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from db.tenancy import tenant_session
from runtime.config import get_settings
from tests.fakes import cloud_api as meta
from tests.fakes import zapi
from tests.fakes.servers import serve_in_thread

from .conftest import wait_until, webhook_path

SECRET = f"SEGREDO-INTERNO-{uuid.uuid4().hex[:8]}"
ORDER = "Pedido: 2 caixas de luvas, entrega na sexta."
APP_SECRET = "segredo-do-app"


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def internal() -> Iterator[dict[str, Any]]:
    """A server on the 'internal network' (an admin page, a metadata service...): answers the secret."""
    seen: list[str] = []

    async def answer(request: Request) -> Response:
        seen.append(request.url.path)
        return PlainTextResponse(SECRET)

    with serve_in_thread(Starlette(routes=[Route("/{path:path}", answer)])) as url:
        yield {"url": url, "seen": seen}


@pytest.fixture(scope="module")
def attacker(internal) -> Iterator[dict[str, Any]]:
    """A host the tenant controls, reachable like any public site; its links lead inside."""
    sent = {"big": 0}

    async def big(request: Request) -> Response:
        async def body():
            for _ in range(1000):  # 64 MB if nobody stops reading
                sent["big"] += 64_000
                yield b"x" * 64_000
                await asyncio.sleep(0)

        return StreamingResponse(body(), media_type="text/plain")

    async def drip(request: Request) -> Response:
        async def body():
            for _ in range(100):  # 20 s for 100 bytes
                yield b"."
                await asyncio.sleep(0.2)

        return StreamingResponse(body(), media_type="text/plain")

    app = Starlette(
        routes=[
            Route("/pedido.txt", lambda r: PlainTextResponse(ORDER)),
            Route("/redireciona", lambda r: RedirectResponse(f"{internal['url']}/admin/segredo.txt", status_code=302)),
            Route(
                "/metadados", lambda r: RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)
            ),
            Route("/rede", lambda r: RedirectResponse("http://10.0.0.1/arquivo.txt", status_code=302)),
            Route("/grande.txt", big),
            Route("/gotas.txt", drip),
        ]
    )
    with serve_in_thread(app) as url:
        yield {"url": url, "sent": sent}


@pytest.fixture(scope="module")
def fake_zapi() -> Iterator[zapi.FakeZapi]:
    fake = zapi.FakeZapi()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def graph() -> Iterator[meta.FakeGraph]:
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture
def narrowed(monkeypatch, fresh_settings, fake_zapi, graph, attacker):
    """Only the fake providers and the attacker's host may be reached."""
    allowed = [f"127.0.0.1:{_port(u)}" for u in (fake_zapi.base_url, graph.base_url, attacker["url"])]
    monkeypatch.setenv("EGRESS_ALLOW_PRIVATE_NETWORKS", ",".join(allowed))
    get_settings.cache_clear()


@pytest.fixture
def zapi_channel(api, fake_zapi, narrowed, worker) -> dict:
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "zapi",
            "name": "Z-API",
            "api_base_url": fake_zapi.base_url,
            "credentials": {
                "instance_id": fake_zapi.instance_id,
                "token": fake_zapi.token,
                "client_token": fake_zapi.client_token,
            },
            "settings": {"debounce_seconds": 0.2, "auto_reply_text": "Recebido!"},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def cloud_channel(api, graph, narrowed, worker) -> dict:
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "cloud_api",
            "name": "Oficial",
            "api_base_url": graph.base_url,
            "credentials": {
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": APP_SECRET,
                "verify_token": "v",
            },
            "settings": {"debounce_seconds": 0.2, "auto_reply_text": "Recebido!"},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _phone() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


def zapi_document(api, channel: dict, url: str) -> str:
    phone = _phone()
    payload = zapi.media_callback("document", url, mime_type="text/plain", file_name="pedido.txt", phone=phone)
    path = webhook_path(channel["webhook_url"])
    body, headers, query = zapi.webhook_post(payload, path.split("secret=")[1])
    assert api.post(path.split("?")[0], content=body, headers=headers, params=query).status_code == 200
    return phone


def cloud_document(api, channel: dict, media_id: str) -> str:
    phone = _phone()
    payload = meta.media_message("document", media_id, "text/plain", filename="pedido.txt", from_phone=phone)
    body, headers = meta.signed(payload, APP_SECRET)
    assert api.post(webhook_path(channel["webhook_url"]), content=body, headers=headers).status_code == 200
    return phone


def understood(api, channel: dict, timeout: float = 20) -> dict:
    """The inbound message once its media was handled: {media, details}."""

    def row():
        with tenant_session(api.workspace_id) as s:
            found = s.execute(
                text(
                    "SELECT media, details FROM message WHERE channel_id = :c AND direction = 'inbound' "
                    "AND media ? 'status'"
                ),
                {"c": channel["id"]},
            ).first()
        return found and {"media": found[0], "details": found[1]}

    return wait_until(row, timeout=timeout)


def assert_nothing_read_back(message: dict, internal: dict) -> None:
    media = message["media"]
    assert media["status"] == "failed", media
    assert "rede interna" in media["error"], media["error"]
    assert "storage_key" not in media
    assert SECRET not in json.dumps(message, ensure_ascii=False)
    media_dir = get_settings().media_dir or get_settings().data_dir / "media"
    if media_dir.exists():
        assert not any(SECRET.encode() in p.read_bytes() for p in media_dir.rglob("*") if p.is_file())
    assert internal["seen"] == []  # no request ever reached the internal server


def test_a_file_on_an_allowed_host_is_read(api, zapi_channel, attacker):
    """The control: downloads work, so the refusals below are the guard's."""
    zapi_document(api, zapi_channel, f"{attacker['url']}/pedido.txt")
    message = understood(api, zapi_channel)
    assert message["media"]["status"] == "ok" and "storage_key" in message["media"]
    assert ORDER in message["details"]["understood"]


@pytest.mark.parametrize(
    "target",
    [
        "redirect-to-internal",
        "internal-directly",
        "redirect-to-metadata",
        "metadata-directly",
        "redirect-to-10.0.0.1",
    ],
)
def test_zapi_document_url_leading_inside_is_refused(api, zapi_channel, attacker, internal, target):
    url = {
        "redirect-to-internal": f"{attacker['url']}/redireciona",
        "internal-directly": f"{internal['url']}/admin/segredo.txt",
        "redirect-to-metadata": f"{attacker['url']}/metadados",
        "metadata-directly": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "redirect-to-10.0.0.1": f"{attacker['url']}/rede",
    }[target]
    zapi_document(api, zapi_channel, url)
    assert_nothing_read_back(understood(api, zapi_channel), internal)


def test_cloud_api_media_lookup_pointing_inside_is_refused(api, cloud_channel, graph, attacker, internal):
    """A server posing as Graph (the channel's api_base_url is the tenant's choice) answers the media
    lookup with a URL that redirects to the internal server."""
    media_id = graph.add_media(b"", "text/plain", "pedido.txt", url=f"{attacker['url']}/redireciona")
    cloud_document(api, cloud_channel, media_id)
    assert_nothing_read_back(understood(api, cloud_channel), internal)


def test_cloud_api_media_still_downloads_from_graph(api, cloud_channel, graph):
    media_id = graph.add_media(ORDER.encode(), "text/plain", "pedido.txt")
    cloud_document(api, cloud_channel, media_id)
    message = understood(api, cloud_channel)
    assert message["media"]["status"] == "ok" and ORDER in message["details"]["understood"]


def test_a_download_stops_at_the_size_limit(api, zapi_channel, attacker, monkeypatch):
    monkeypatch.setenv("MEDIA_MAX_BYTES", "1000000")
    get_settings.cache_clear()
    before = attacker["sent"]["big"]
    zapi_document(api, zapi_channel, f"{attacker['url']}/grande.txt")
    media = understood(api, zapi_channel)["media"]
    assert media["status"] == "failed" and "limite de 1 MB" in media["error"], media
    assert attacker["sent"]["big"] - before < 10_000_000  # we stopped reading; the 64 MB never came


def test_a_download_that_trickles_ends_at_its_deadline(api, zapi_channel, attacker, monkeypatch):
    monkeypatch.setenv("MEDIA_DOWNLOAD_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    zapi_document(api, zapi_channel, f"{attacker['url']}/gotas.txt")
    media = understood(api, zapi_channel, timeout=10)["media"]  # the drip alone would take 20 s
    assert media["status"] == "failed" and "Tempo esgotado" in media["error"], media
