"""Input the REST API can't store or count is the caller's error (422), never a 500: bounded
integers, and no NUL or lone surrogate in any string (PostgreSQL refuses both)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from db.models import Contact, Conversation, Suggestion
from db.tenancy import tenant_session
from runtime.api import create_app
from runtime.api.inputs import REFUSED_TEXT
from runtime.auth.api_keys import create_api_key


@pytest.fixture
def api(pg, workspace):
    ws, _, _ = workspace
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


# -- the three 500s schemathesis found ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/conversations"])
def test_a_huge_offset_is_refused_with_422(api, path):
    r = api.get(path, params={"offset": 10**19})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "offset"]
    assert api.get(path, params={"offset": 1_000_000}).status_code == 200


def test_a_nul_in_the_collection_filter_is_refused_with_422(api):
    r = api.get("/api/v1/knowledge/documents", params={"collection": "precos\x00"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "collection"]
    assert api.get("/api/v1/knowledge/documents", params={"collection": "precos"}).json() == []


# -- every integer bounded, every string checked ---------------------------------------------------


def _request_schemas(spec: dict):
    """(where, schema) of every parameter and request body of the OpenAPI document."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                yield f"{method.upper()} {path} {p['in']}:{p['name']}", p["schema"]
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                yield f"{method.upper()} {path} body ({media})", content["schema"]


def _numbers(spec: dict, schema: dict, where: str, seen: frozenset[str] = frozenset()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _numbers(spec, spec["components"]["schemas"][name], where, seen | {name})
        return
    if schema.get("type") in ("integer", "number"):
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            yield from _numbers(spec, sub, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _numbers(spec, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _numbers(spec, schema[key], f"{where}[]", seen)


def test_every_integer_and_number_in_the_api_schema_is_bounded(api):
    spec = api.get("/api/openapi.json").json()
    numbers = [n for where, schema in _request_schemas(spec) for n in _numbers(spec, schema, where)]
    assert len(numbers) >= 6  # limit/offset twice, search k, the agent's LLM numbers
    unbounded = [
        where
        for where, s in numbers
        if not ({"minimum", "exclusiveMinimum"} & s.keys() and {"maximum", "exclusiveMaximum"} & s.keys())
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    "bad", ["\x00", "\ud800", "a\udfffb"], ids=["nul", "lone-high-surrogate", "lone-low-surrogate"]
)
def test_refused_text_in_a_json_body_is_422_and_nothing_is_stored(api, bad):
    body = json.dumps({"phone": "+5511988887777", "name": "Ana" + bad}).encode()  # escapes them: \u0000
    r = api.post("/api/v1/contacts", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"type": "string_refused", "loc": ["body", "name"], "msg": REFUSED_TEXT}]
    assert api.get("/api/v1/contacts").json() == []


def test_refused_text_deep_in_a_body_and_in_a_key_is_422(api):
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "zapi",
            "name": "Z",
            "credentials": {"instance_id": "i", "token": "t\x00", "client_token\x00": "c"},
            "settings": {"auto_reply_text": ["ok", "n\x00o"]},
        },
    )
    assert r.status_code == 422, r.text
    locs = [e["loc"] for e in r.json()["detail"]]
    assert locs == [
        ["body", "credentials", "token"],
        ["body", "credentials", "client_token"],  # the name is cleaned in the answer
        ["body", "settings", "auto_reply_text", 1],
    ]
    assert api.get("/api/v1/channels").json() == []


def test_refused_text_in_a_form_field_or_file_name_is_422(api):
    r = api.post("/api/v1/knowledge/documents", files={"file": ("a.txt", b"ola")}, data={"collection": "p\x00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "collection"]
    # Built by hand: httpx would percent-encode the NUL in the file name.
    multipart = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nola\r\n--b--\r\n"
    )
    r = api.post(
        "/api/v1/knowledge/documents", content=multipart, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    r = api.post(
        "/api/v1/knowledge/documents",
        content=b'{"url": "https://example.com/\\u0000"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "url"]
    assert api.get("/api/v1/knowledge/documents").json() == []


def test_refused_text_in_a_query_name_or_a_path_is_422(api):
    assert api.get("/api/v1/learned-answers", params={"status_filter": "ok\x00"}).status_code == 422
    assert api.get("/api/v1/contacts", params={"x\x00": "1"}).status_code == 422
    r = api.get("/api/v1/agents/%00")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "agent_id"]


def test_login_form_with_a_nul_is_422_not_500(pg):
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as c:
        r = c.post("/auth/login", data={"email": "a\x00@b.com", "password": "x"}, follow_redirects=False)
    assert r.status_code == 422


def test_accepting_a_suggestion_when_the_channel_is_disabled_is_409_not_500(api, workspace):
    """Found by the schemathesis run: the suggestion route let ChannelUnavailable escape."""
    ws, _, _ = workspace
    channel = api.post(
        "/api/v1/channels",
        json={"provider": "zapi", "name": "Z", "credentials": {"instance_id": "i", "token": "t", "client_token": "c"}},
    ).json()
    with tenant_session(ws.workspace_id) as s:
        contact = Contact(workspace_id=ws.workspace_id, phone="+5511988881111")
        s.add(contact)
        s.flush()
        conv = Conversation(workspace_id=ws.workspace_id, contact_id=contact.id, channel_id=channel["id"])
        s.add(conv)
        s.flush()
        suggestion = Suggestion(workspace_id=ws.workspace_id, conversation_id=conv.id, draft="Olá!")
        s.add(suggestion)
        s.commit()
    assert api.patch(f"/api/v1/channels/{channel['id']}", json={"is_active": False}).status_code == 200
    r = api.post(f"/api/v1/conversations/{conv.id}/suggestions/{suggestion.id}", json={"action": "accept"})
    assert r.status_code == 409, r.text
    assert api.get(f"/api/v1/conversations/{conv.id}/suggestions").json()[0]["status"] == "pending"
