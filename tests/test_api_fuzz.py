"""schemathesis over the OpenAPI of /api/v1: every operation gets generated valid and invalid
requests (bodies, query strings, path ids, NUL and huge numbers included) with a real API key,
against the real app on the real PostgreSQL, in a workspace whose ids resolve. None may answer 5xx.

Seeded and derandomized (no example database), so a failure repeats; schemathesis adapts to the
server's answers, so the count varies by a few requests between runs (~1,750, 20-30 s here).
Jobs the requests enqueue (URL fetches, sends, Drive syncs) are deleted afterwards: no worker ever
runs them, so no generated URL is ever fetched."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from db.models import Agent, Contact, Conversation, DriveConnection, Suggestion
from db.tenancy import tenant_session
from runtime.agent import learned
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from runtime.channels import service as channels
from runtime.crypto import encrypt

MAX_EXAMPLES = 25  # per operation and phase (the test prints how many requests that made)
SEED = 14


class Ids(dict):
    """Path parameter name -> an id that exists in the fuzzed workspace."""


@pytest.fixture(scope="module")
def fuzz_workspace(pg, discard_jobs_queued_here) -> Iterator[tuple[str, Ids]]:
    """A workspace with one of everything the API addresses by id, and its API key."""
    from runtime.auth.accounts import create_workspace

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ELEVENLABS_API_KEY", raising=False)  # voice cloning answers 422, never calls out
        from runtime.config import get_settings

        get_settings.cache_clear()
        ws = create_workspace("Fuzz", f"fuzz-{uuid.uuid4().hex[:8]}@example.com", "senha-forte-123")
        wid = ws.workspace_id
        with tenant_session(wid) as s:
            agent = Agent(workspace_id=wid, name="Vendedor")
            s.add(agent)
            s.flush()
            channel = channels.create_channel(
                s,
                wid,
                provider="zapi",
                name="Z",
                credentials={"instance_id": "i", "token": "t", "client_token": "c"},
                api_base_url="http://127.0.0.1:9",  # closed port: nothing ever listens there
                agent_id=agent.id,
            )
            contact = Contact(workspace_id=wid, phone="+5511988880000", name="Lead")
            s.add(contact)
            s.flush()
            conv = Conversation(workspace_id=wid, contact_id=contact.id, channel_id=channel.id, agent_id=agent.id)
            s.add(conv)
            s.flush()
            answer = learned.learn(
                s,
                conv,
                question="Vocês abrem sábado?",
                answer="Sim, das 9h às 13h.",
                seller_user_id=None,
                require_approval=True,
            )
            suggestion = Suggestion(workspace_id=wid, conversation_id=conv.id, draft="Olá! Posso ajudar?")
            drive = DriveConnection(
                workspace_id=wid, folder_id="pasta", folder_name="Pasta", refresh_token_encrypted=encrypt("rt")
            )
            s.add_all([suggestion, drive])
            s.commit()
            ids = Ids(
                agent_id=str(agent.id),
                channel_id=str(channel.id),
                conversation_id=str(conv.id),
                learned_id=str(answer.id),
                suggestion_id=str(suggestion.id),
                connection_id=str(drive.id),
            )
        key = create_api_key(wid, "fuzz").key
        with TestClient(create_app(), base_url="http://testserver") as client:  # a document, as a user adds one
            r = client.post(
                "/api/v1/knowledge/documents",
                files={"file": ("precos.txt", b"Limpeza: R$ 150")},
                data={"collection": "precos"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 202, r.text
            ids["document_id"] = r.json()["id"]
        yield key, ids
        get_settings.cache_clear()


class CountingApp:
    """The real app, counting what it answered (the server's own view of the run)."""

    def __init__(self, app) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def counting_send(message):
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
                if message["status"] >= 500:
                    self.server_errors.append(f"{scope['method']} {scope['path']} -> {message['status']}")
            await send(message)

        return await self.app(scope, receive, counting_send)


def fuzz_config(key: str, ids: Ids, text_queries: set[str]) -> SchemathesisConfig:
    """What a schemathesis.toml would hold: the real key, a fixed seed, the known-hostile values mixed
    into 1 in 10 generated parameters, and the workspace's real ids in half the path parameters."""
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {key}"},
            "continue-on-failure": True,
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,
                "dictionaries": {
                    "string": {"dictionary": "hostile-text", "probability": 0.1},
                    "integer": {"dictionary": "huge-integers", "probability": 0.1},
                },
            },
            "dictionaries": {
                # Query strings and paths travel as UTF-8: NUL can, a lone surrogate can't (JSON bodies can).
                "hostile-text": {"values": ["\x00", "pre\x00cos", "%00", "\U0010ffff", "'; --"]},
                "huge-integers": {"values": [2**63, 10**19, -(2**63) - 1, 2**31, 10**400]},
                **{name: {"values": [value]} for name, value in ids.items()},
            },
            "parameters": {
                **{f"query.{name}": {"dictionary": "hostile-text", "probability": 0.1} for name in text_queries},
                **{f"path.{name}": {"dictionary": name, "probability": 0.5} for name in ids},
            },
        }
    )


def _text_query_parameters(spec: dict) -> set[str]:
    """Query parameters that take text, optional ones (anyOf string/null) included: type-wide
    dictionary bindings only reach plain `type: string` parameters."""
    names = set()
    for item in spec["paths"].values():
        for op in item.values():
            for p in op.get("parameters", []):
                schema = p["schema"]
                if p["in"] == "query" and "string" in [schema.get("type")] + [
                    s.get("type") for s in schema.get("anyOf", [])
                ]:
                    names.add(p["name"])
    return names


def test_no_operation_answers_5xx(fuzz_workspace):
    key, ids = fuzz_workspace
    app = CountingApp(create_app())
    config = fuzz_config(key, ids, _text_query_parameters(app.app.openapi()))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)
    schema = schema.include(path_regex="^/api/v1/")

    started = time.monotonic()
    failures: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                failures += [f"{event.label}: {c.name} {c.failure_info}" for c in checks if c.status != Status.SUCCESS]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"engine error: {event}")
    elapsed = time.monotonic() - started
    total = sum(app.statuses.values())
    print(f"\nschemathesis: {total} requests in {elapsed:.1f} s, statuses {dict(sorted(app.statuses.items()))}")
    server_errors = sorted(set(app.server_errors))
    assert not server_errors, "\n".join(server_errors)
    assert not failures, "\n".join(failures)
    assert total > 1000  # the run really exercised the API
