"""A workspace with a Cloud API channel on a fake Graph server, the real service over HTTP, its
owner and two sellers, and a way to make a lead write in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from db.models import Membership, Role, User
from db.tenancy import global_session, tenant_session
from runtime import security
from runtime.access import Principal
from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from tests.conftest import wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.servers import serve_in_thread

APP_SECRET = "meta-app-secret"
AUTO_REPLY = "Olá! Sou o assistente virtual, já vou te ajudar."


@pytest.fixture(scope="module")
def service(pg) -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


def add_member(workspace_id: uuid.UUID, role: Role, name: str) -> Principal:
    email = f"{name.lower().split()[0]}-{uuid.uuid4().hex[:8]}@example.com"
    with global_session() as s:
        user = User(email=email, name=name, password_hash=security.hash_password("senha-forte-123"))
        s.add(user)
        s.commit()
        user_id = user.id
    with tenant_session(workspace_id) as s:
        s.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
        s.commit()
    return Principal(user_id, workspace_id, role, email, name)


@dataclass
class Shop:
    api: httpx.Client
    graph: meta.FakeGraph
    channel: dict
    owner: Principal
    seller: Principal
    seller2: Principal

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.owner.workspace_id

    def lead_says(self, body: str, phone: str, name: str = "Ana Lead", timestamp: int | None = None) -> None:
        payload = meta.text_message(
            body, from_phone=phone, name=name, **({"timestamp": timestamp} if timestamp else {})
        )
        raw, headers = meta.signed(payload, APP_SECRET)
        r = self.api.post(self.channel["path"], content=raw, headers={**headers, "Authorization": ""})
        assert r.status_code == 200, r.text

    def conversation_of(self, phone: str) -> str:
        def find():
            with tenant_session(self.workspace_id) as s:
                return s.execute(
                    text("SELECT v.id FROM conversation v JOIN contact c ON c.id = v.contact_id WHERE c.phone = :p"),
                    {"p": "+" + phone},
                ).scalar()

        return str(wait_until(find))

    def sent_to(self, phone: str) -> list[dict]:
        return [m for m in self.graph.messages if m.get("to") == phone]

    def sql(self, query: str, **params):
        with tenant_session(self.workspace_id) as s:
            return s.execute(text(query), params).all()


def new_lead() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture
def shop(service, graph, workspace) -> Iterator[Shop]:
    ws, *_ = workspace
    key = create_api_key(ws.workspace_id, "tests").key
    with httpx.Client(base_url=service, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        r = api.post(
            "/api/v1/channels",
            json={
                "provider": "cloud_api",
                "name": "WhatsApp da loja",
                "api_base_url": graph.base_url,
                "credentials": {
                    "phone_number_id": graph.phone_number_id,
                    "access_token": graph.access_token,
                    "app_secret": APP_SECRET,
                    "verify_token": "verifica",
                },
                "settings": {"debounce_seconds": 0.2, "auto_reply_text": AUTO_REPLY},
            },
        )
        assert r.status_code == 201, r.text
        channel = r.json()
        channel["path"] = channel["webhook_url"].removeprefix("http://testserver")
        owner = Principal(ws.user_id, ws.workspace_id, Role.owner, "", "Dona Maria")
        yield Shop(
            api,
            graph,
            channel,
            owner,
            add_member(ws.workspace_id, Role.seller, "Bruno Vendas"),
            add_member(ws.workspace_id, Role.seller, "Carla Vendas"),
        )
