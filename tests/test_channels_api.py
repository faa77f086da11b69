"""/api/v1/channels: credentials encrypted at rest and write-only, webhook URL shown, clear 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key

CLOUD = {
    "provider": "cloud_api",
    "name": "Loja - WhatsApp oficial",
    "credentials": {
        "phone_number_id": "1234567890",
        "access_token": "EAAG-super-secret-token",
        "app_secret": "app-secret-abc",
        "verify_token": "verifica-123",
    },
}


@pytest.fixture
def api(pg, workspace):
    ws, _, _ = workspace
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        c.workspace_id = ws.workspace_id
        yield c


def test_create_returns_webhook_url_and_no_secret(api):
    r = api.post("/api/v1/channels", json=CLOUD)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["webhook_url"] == f"http://testserver/webhooks/cloud-api/{body['id']}"
    assert body["credentials_set"] == ["access_token", "app_secret", "phone_number_id", "verify_token"]
    assert body["api_base_url"] == "https://graph.facebook.com"
    assert body["has_service_window"] is True
    assert "EAAG" not in r.text and "app-secret" not in r.text
    listed = api.get("/api/v1/channels").text
    assert "EAAG" not in listed and body["id"] in listed


def test_credentials_are_encrypted_at_rest(api):
    cid = api.post("/api/v1/channels", json=CLOUD).json()["id"]
    with tenant_session(api.workspace_id) as s:
        stored = s.execute(text("SELECT credentials_encrypted::text FROM channel WHERE id = :id"), {"id": cid}).scalar()
    assert stored and "EAAG" not in stored and "app-secret" not in stored


def test_gateway_channels_get_a_generated_webhook_secret_in_their_url(api):
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "zapi",
            "name": "Z",
            "credentials": {"instance_id": "inst", "token": "tok", "client_token": "ct"},
        },
    )
    assert r.status_code == 201, r.text
    url = r.json()["webhook_url"]
    assert "/webhooks/zapi/" in url and "?secret=" in url and len(url.split("secret=")[1]) >= 24
    assert "webhook_secret" in r.json()["credentials_set"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({**CLOUD, "provider": "telegram"}, "provider"),
        ({**CLOUD, "credentials": {"phone_number_id": "1"}}, "missing credential"),
        ({**CLOUD, "credentials": {**CLOUD["credentials"], "senha": "x"}}, "unknown credential"),
        ({**CLOUD, "api_base_url": "ftp://x"}, "api_base_url"),
        ({**CLOUD, "settings": {"debounce_seconds": -1}}, "debounce_seconds"),
        ({**CLOUD, "settings": {"cor": "azul"}}, "unknown setting"),
        ({**CLOUD, "name": ""}, "name"),
    ],
)
def test_bad_input_is_422_with_a_clear_message(api, payload, fragment):
    r = api.post("/api/v1/channels", json=payload)
    assert r.status_code == 422
    assert fragment in r.text


def test_patch_replaces_only_given_credentials_and_settings(api):
    cid = api.post("/api/v1/channels", json=CLOUD).json()["id"]
    r = api.patch(
        f"/api/v1/channels/{cid}",
        json={"credentials": {"access_token": "novo"}, "settings": {"auto_reply_text": "Olá!"}, "name": "Novo nome"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["auto_reply_text"] == "Olá!" and r.json()["name"] == "Novo nome"
    from runtime.channels.registry import decrypt_credentials

    with tenant_session(api.workspace_id) as s:
        enc = s.execute(text("SELECT credentials_encrypted FROM channel WHERE id = :id"), {"id": cid}).scalar()
    creds = decrypt_credentials(enc)
    assert creds["access_token"] == "novo" and creds["app_secret"] == "app-secret-abc"
    r = api.patch(
        f"/api/v1/channels/{cid}", json={"api_base_url": "http://127.0.0.1:9", "credentials": {"access_token": "t2"}}
    )
    assert r.json()["api_base_url"] == "http://127.0.0.1:9"
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": None, "credentials": {"access_token": "t3"}})
    assert r.json()["api_base_url"] == "https://graph.facebook.com"


ZAPI = {
    "provider": "zapi",
    "name": "Z-API",
    "api_base_url": "https://api.z-api.io",
    "credentials": {"instance_id": "inst", "token": "token-da-loja", "client_token": "client-token-da-loja"},
}


def _stored(api, cid) -> tuple[str | None, dict]:
    from runtime.channels.registry import decrypt_credentials

    with tenant_session(api.workspace_id) as s:
        row = s.execute(
            text("SELECT api_base_url, credentials_encrypted FROM channel WHERE id = :id"), {"id": cid}
        ).one()
    return row[0], decrypt_credentials(row[1])


def test_a_new_api_host_needs_the_credentials_again(api):
    """Otherwise PATCH api_base_url alone would send the stored token to any host (issue 14, item 6)."""
    cid = api.post("/api/v1/channels", json=ZAPI).json()["id"]
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": "https://coletor.example.com"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "token, client_token" in detail and "nunca são enviadas a outro servidor" in detail
    assert "token-da-loja" not in r.text
    assert _stored(api, cid)[0] == "https://api.z-api.io"  # nothing changed

    # Only one of the two secrets sent to the API: still refused, naming the missing one.
    r = api.patch(
        f"/api/v1/channels/{cid}",
        json={"api_base_url": "https://coletor.example.com", "credentials": {"token": "outro"}},
    )
    assert r.status_code == 422 and "client_token" in r.json()["detail"]
    # Another port or scheme is another server too; back to the provider's default as well.
    for url in ("https://api.z-api.io:8443", "http://api.z-api.io"):
        assert api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": url}).status_code == 422

    # Same server, another path: the credentials stay valid there.
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": "https://API.z-api.io:443/v2/"})
    assert r.status_code == 200, r.text
    url, creds = _stored(api, cid)
    assert url == "https://API.z-api.io:443/v2" and creds["token"] == "token-da-loja"

    # With the credentials in the same change: accepted, and the new ones are stored.
    new = {"token": "token-novo", "client_token": "client-novo"}
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": "https://proxy.loja.example", "credentials": new})
    assert r.status_code == 200, r.text
    url, creds = _stored(api, cid)
    assert (
        url == "https://proxy.loja.example"
        and creds["token"] == "token-novo"
        and creds["client_token"] == "client-novo"
    )
    # Clearing back to the provider's default is a change of host as well.
    assert api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": None}).status_code == 422
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": None, "credentials": ZAPI["credentials"]})
    assert r.status_code == 200 and r.json()["api_base_url"] == "https://api.z-api.io"
    # Other fields still change without credentials.
    assert api.patch(f"/api/v1/channels/{cid}", json={"name": "Loja Centro"}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest",
        "http://10.0.0.1:8080",
        "http://[::ffff:192.168.0.1]",
        "http://metadata.google.internal",
    ],
)
def test_an_api_base_url_on_an_internal_address_is_refused(api, url):
    r = api.post("/api/v1/channels", json={**ZAPI, "api_base_url": url})
    assert r.status_code == 422 and "rede interna" in r.json()["detail"], r.text
    cid = api.post("/api/v1/channels", json=ZAPI).json()["id"]
    r = api.patch(f"/api/v1/channels/{cid}", json={"api_base_url": url, "credentials": ZAPI["credentials"]})
    assert r.status_code == 422 and "rede interna" in r.json()["detail"], r.text


def test_delete_and_tenant_isolation(api, make_workspace):
    cid = api.post("/api/v1/channels", json=CLOUD).json()["id"]
    other = make_workspace("Outra")
    other_key = create_api_key(other.workspace_id, "o").key
    h = {"Authorization": f"Bearer {other_key}"}
    assert api.get(f"/api/v1/channels/{cid}", headers=h).status_code == 404
    assert api.delete(f"/api/v1/channels/{cid}", headers=h).status_code == 404
    assert api.delete(f"/api/v1/channels/{cid}").status_code == 204
    assert api.get(f"/api/v1/channels/{cid}").status_code == 404
