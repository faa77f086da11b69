"""/api/v1/agents: the LLM API key stays with the server it was given for, and an agent's LLM server
may not be an internal address (issue 14, items 5 and 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from db.tenancy import tenant_session
from runtime import crypto
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key


@pytest.fixture
def api(pg, workspace):
    ws, _, _ = workspace
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        c.workspace_id = ws.workspace_id
        yield c


def _key(api, agent_id: str) -> str | None:
    with tenant_session(api.workspace_id) as s:
        enc = s.execute(text("SELECT llm_api_key_encrypted FROM agent WHERE id = :i"), {"i": agent_id}).scalar()
    return crypto.decrypt(enc) if enc else None


def test_a_new_llm_server_needs_the_key_again(api):
    r = api.post("/api/v1/agents", json={"name": "Sofia", "llm": {"provider": "openai", "api_key": "sk-da-loja"}})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]

    r = api.patch(
        f"/api/v1/agents/{aid}", json={"llm": {"provider": "openai", "base_url": "https://coletor.example/v1"}}
    )
    assert r.status_code == 422, r.text
    assert "informe a chave de API de novo" in r.json()["detail"] and "sk-da-loja" not in r.text
    assert api.get(f"/api/v1/agents/{aid}").json()["llm"]["base_url"] is None and _key(api, aid) == "sk-da-loja"
    r = api.patch(f"/api/v1/agents/{aid}", json={"llm": {"provider": "gemini"}})  # another provider, another server
    assert r.status_code == 422

    # The same server with another path keeps the key.
    r = api.patch(
        f"/api/v1/agents/{aid}", json={"llm": {"provider": "openai", "base_url": "https://api.openai.com/v1/"}}
    )
    assert r.status_code == 200, r.text
    # A key in the same change, or "" (remove the saved key), lets the server change.
    r = api.patch(
        f"/api/v1/agents/{aid}",
        json={"llm": {"provider": "openai", "base_url": "https://coletor.example/v1", "api_key": "sk-nova"}},
    )
    assert r.status_code == 200 and _key(api, aid) == "sk-nova"
    r = api.patch(
        f"/api/v1/agents/{aid}",
        json={"llm": {"provider": "ollama", "base_url": "https://gpu.example/v1", "api_key": ""}},
    )
    assert r.status_code == 200 and r.json()["llm"]["api_key_set"] is False
    # Without a saved key nothing is at stake.
    r = api.patch(f"/api/v1/agents/{aid}", json={"llm": {"provider": "openai", "base_url": "https://outro.example/v1"}})
    assert r.status_code == 200


@pytest.mark.parametrize("url", ["http://10.0.0.1:11434/v1", "http://169.254.169.254/", "http://100.64.1.1/v1"])
def test_an_internal_llm_server_is_refused(api, url):
    r = api.post("/api/v1/agents", json={"name": "Sofia", "llm": {"provider": "openai", "base_url": url}})
    assert r.status_code == 422 and "rede interna" in r.json()["detail"], r.text
    aid = api.post("/api/v1/agents", json={"name": "Sofia", "llm": {"provider": "none"}}).json()["id"]
    r = api.patch(f"/api/v1/agents/{aid}", json={"llm": {"provider": "openai", "base_url": url, "api_key": "sk"}})
    assert r.status_code == 422 and "rede interna" in r.json()["detail"], r.text
