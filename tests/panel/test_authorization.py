"""Authorization lives in the runtime, not in hidden buttons: every panel service that is not
meant for sellers refuses a seller before touching anything, whatever arguments it is given."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid

import pytest

import runtime.panel
from db.models import Membership, Role, User
from db.tenancy import global_session, tenant_session
from runtime import security
from runtime.access import Forbidden, Principal, require_manager

# Services a seller may call (their own account, their inbox). Everything else is for managers.
# The inbox services check, on each call, that the conversation is the seller's or unassigned
# (tests/inbox).
SELLER_ALLOWED = {
    ("settings", "my_account"),
    ("settings", "update_my_account"),
    ("settings", "change_password"),
    ("settings", "unlink_google"),
    ("settings", "email_confirmation"),
    ("settings", "resend_email_confirmation"),
    *(
        ("inbox", name)
        for name in (
            "conversations",
            "view_counts",
            "thread",
            "mark_read",
            "send_text",
            "send_file",
            "send_voice_note",
            "send_template",
            "retry_message",
            "decide_suggestion",
            "take_over",
            "hand_back",
            "cancel_followup",
            "team",
            "assign",
            "set_status",
            "update_lead",
            "media",
            "quick_replies",
        )
    ),
}


def _services():
    for info in pkgutil.iter_modules(runtime.panel.__path__):
        module = importlib.import_module(f"runtime.panel.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "principal":
                yield info.name, name, fn


SERVICES = sorted(_services(), key=lambda t: (t[0], t[1]))
MANAGER_SERVICES = [s for s in SERVICES if (s[0], s[1]) not in SELLER_ALLOWED]


def test_the_panel_services_are_found():
    # Guard against this test silently checking nothing.
    assert len(MANAGER_SERVICES) >= 10, SERVICES
    assert {(m, n) for m, n, _ in SERVICES} >= SELLER_ALLOWED, "a seller-allowed service was renamed"


@pytest.fixture
def seller(workspace) -> Principal:
    ws, *_ = workspace
    with global_session() as s:
        user = User(
            email=f"vendedor-{uuid.uuid4().hex[:8]}@example.com", password_hash=security.hash_password("x" * 12)
        )
        s.add(user)
        s.commit()
        user_id = user.id
    with tenant_session(ws.workspace_id) as s:
        s.add(Membership(workspace_id=ws.workspace_id, user_id=user_id, role=Role.seller))
        s.commit()
    return Principal(user_id, ws.workspace_id, Role.seller)


@pytest.mark.parametrize(("module", "name", "fn"), MANAGER_SERVICES, ids=[f"{m}.{n}" for m, n, _ in MANAGER_SERVICES])
def test_a_seller_is_refused_by_manager_services(seller, module, name, fn):
    params = list(inspect.signature(fn).parameters.values())[1:]
    args = [
        None
        for p in params
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    kwargs = {p.name: None for p in params if p.default is inspect.Parameter.empty and p.kind == p.KEYWORD_ONLY}
    with pytest.raises(Forbidden):
        fn(seller, *args, **kwargs)


def test_require_manager_lets_owners_and_admins_through(workspace):
    ws, *_ = workspace
    for role in (Role.owner, Role.admin):
        assert require_manager(Principal(ws.user_id, ws.workspace_id, role)).role == role
    with pytest.raises(Forbidden):
        require_manager(Principal(ws.user_id, ws.workspace_id, Role.seller))
