"""Generated garbage at /webhooks/{provider}/{channel_id}, through the real route on the real
PostgreSQL: raw bytes, arbitrary JSON, and real provider payloads with random leaves replaced —
each posted with the provider's *valid* authentication (a correct HMAC or Twilio signature over the
garbage, the channel's own secret) and without it. Never a 5xx: 4xx for what can't be read or isn't
authentic, 200 for what is read and ignored.

Hypothesis is derandomized (no example database), so a failure repeats. Turn jobs the deliveries
queue are deleted at the end (discard_jobs_queued_here): no media URL generated here is fetched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests.fakes import cloud_api as meta
from tests.fakes import evolution as evo
from tests.fakes import twilio as tw
from tests.fakes import zapi

EXAMPLES = 60  # per provider and body kind
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACCEPTABLE = {200, 400, 401, 403, 413, 415, 422}

APP_SECRET = "meta-app-secret-fuzz"
CREDENTIALS = {
    "cloud_api": {
        "phone_number_id": meta.DEFAULT_PHONE_NUMBER_ID,
        "access_token": "EAAG-fuzz",
        "app_secret": APP_SECRET,
        "verify_token": "verifica-fuzz",
    },
    "evolution": {"instance": evo.DEFAULT_INSTANCE, "api_key": "evo-key"},
    "zapi": {"instance_id": zapi.DEFAULT_INSTANCE_ID, "token": "tok", "client_token": "ct"},
    "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": "twilio-token-fuzz", "from_number": tw.DEFAULT_BUSINESS},
}

# Garbage text: any code point but the two PostgreSQL refuses, which get a test of their own.
text = st.text(st.characters(codec=None, exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(leaves, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text, kids, max_size=4))
# NUL and lone surrogates: JSON carries both as escapes; a form (Twilio) travels as UTF-8, NUL only.
REFUSED = ["\x00", "\ud800", "\udfff", "a\x00\x00b"]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a leaf (and to each container) of a JSON value."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


@st.composite
def mutated(draw, real: Callable[[], dict]) -> dict:
    """A real payload with one to three of its values (or whole sub-objects) replaced by garbage."""
    payload = real()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(payload)))
        payload = _replace(payload, path, draw(json_values))
    return payload


@st.composite
def with_refused_text(draw, real: Callable[[], dict], refused: list[str]) -> dict:
    """A real payload whose text values (names, message text, file names...) carry NUL or lone
    surrogates somewhere: a well-formed event a lead or a provider bug could produce."""
    payload = real()
    strings = [p for p in _paths(payload) if isinstance(_get(payload, p), str)]
    for path in draw(st.lists(st.sampled_from(strings), min_size=1, max_size=3, unique=True)):
        value = _get(payload, path)
        at = draw(st.integers(0, len(value)))
        payload = _replace(payload, path, value[:at] + draw(st.sampled_from(refused)) + value[at:])
    return payload


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


REAL: dict[str, list[Callable[[], dict]]] = {
    "cloud_api": [
        lambda: meta.text_message("Oi, tudo bem?"),
        lambda: meta.media_message("document", "1234567890", "application/pdf", caption="c", filename="a.pdf"),
        lambda: meta.status(meta.new_wamid(), "failed", error=(131047, "Re-engagement message")),
    ],
    "evolution": [
        lambda: evo.text_event("Oi, tudo bem?"),
        lambda: evo.media_event("document", mimetype="application/pdf", file_name="a.pdf"),
        lambda: evo.status_event("3EB0ABCDEF", "READ"),
    ],
    "zapi": [
        lambda: zapi.text_callback("Oi, tudo bem?"),
        lambda: zapi.media_callback("document", "https://files.example/a.pdf"),
        lambda: zapi.status_callback(["3EB0ABCDEF"], "READ"),
    ],
    "twilio": [lambda: tw.inbound_text("Oi, tudo bem?", from_phone=tw.DEFAULT_CUSTOMER)],
}


@pytest.fixture(scope="module")
def client(pg, discard_jobs_queued_here) -> Iterator[TestClient]:
    from runtime.auth.accounts import create_workspace

    ws = create_workspace("Fuzz webhooks", f"fuzz-{uuid.uuid4().hex[:8]}@example.com", "senha-forte-123")
    key = create_api_key(ws.workspace_id, "fuzz").key
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as c:
        c.channels = {}
        for provider, creds in CREDENTIALS.items():
            r = c.post(
                "/api/v1/channels",
                json={
                    "provider": provider,
                    "name": provider,
                    "api_base_url": "http://127.0.0.1:9",  # closed port: a reply could go nowhere
                    "credentials": creds,
                    "settings": {"ignore_groups": False},
                },
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 201, r.text
            c.channels[provider] = r.json()["webhook_url"]
        yield c


def post(client: TestClient, provider: str, body: bytes | dict, *, authentic: bool) -> int:
    """POST `body` the way `provider` does, authenticated correctly or not at all."""
    url = client.channels[provider]
    path = urlsplit(url).path
    if provider == "twilio":
        params = body if isinstance(body, dict) else {"Body": json.dumps(body)}
        params = {_utf8(k): _utf8(v) for k, v in params.items()}
        raw, headers = tw.signed_post(url, params, CREDENTIALS["twilio"]["auth_token"])
        if not authentic:
            headers.pop("x-twilio-signature")
        return client.post(path, content=raw, headers=headers).status_code
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    query = {}
    if provider == "cloud_api" and authentic:
        headers["x-hub-signature-256"] = meta.signature(raw, APP_SECRET)
    elif provider in ("evolution", "zapi") and authentic:
        query["secret"] = url.split("secret=")[1]
    return client.post(path, content=raw, headers=headers, params=query).status_code


def _utf8(value: Any) -> str:
    """A form field as Twilio could send it (any value, as text UTF-8 can carry)."""
    return str(value).encode("utf-8", "replace").decode()


PROVIDERS = list(CREDENTIALS)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_real_payloads_with_garbage_inside_never_answer_5xx(client, provider):
    @FUZZ
    @given(payload=st.sampled_from(REAL[provider]).flatmap(mutated), authentic=st.booleans())
    def run(payload, authentic):
        status = post(client, provider, payload, authentic=authentic)
        assert status in ACCEPTABLE, (status, payload)
        if not authentic:
            assert status in (401, 403)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_arbitrary_json_and_bytes_never_answer_5xx(client, provider):
    body = json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=300)
    if provider == "twilio":  # a form: arbitrary fields and values, signed
        body = st.dictionaries(text, text, max_size=6)

    @FUZZ
    @given(body=body)
    def run(body):
        status = post(client, provider, body, authentic=True)
        assert status in ACCEPTABLE, (status, body)

    run()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nul_and_lone_surrogates_in_real_payloads_never_answer_5xx(client, provider):
    refused = [r for r in REFUSED if provider != "twilio" or "\x00" in r]

    @FUZZ
    @given(payload=st.sampled_from(REAL[provider]).flatmap(lambda real: with_refused_text(real, refused)))
    def run(payload):
        status = post(client, provider, payload, authentic=True)
        assert status in ACCEPTABLE, (status, payload)

    run()
