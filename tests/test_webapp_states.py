"""The panel's UI state: everything in it is reset when the person on the tab changes
(webapp.principal_guard resets AuthState and its substates), so every app state must live there."""

from __future__ import annotations

import reflex as rx


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_app_state_is_under_auth_state():
    import webapp.webapp  # noqa: F401 (imports every page and its state)
    from webapp.state import AuthState

    app_states = {cls for cls in _subclasses(rx.State) if cls.__module__.startswith("webapp.")}
    assert len(app_states) > 10
    outside = sorted(cls.__qualname__ for cls in app_states if not issubclass(cls, AuthState))
    assert not outside, f"states a principal change would not reset: {outside}"


def test_the_guard_runs_before_the_state_reaches_a_connecting_tab():
    import webapp.webapp as web
    from webapp.principal_guard import CONNECT_EVENTS, PrincipalGuard

    assert any(isinstance(m, PrincipalGuard) for m in web.app._middlewares)
    assert f"{rx.State.get_name()}.hydrate_and_load" in CONNECT_EVENTS
    assert "hydrate_and_load" in rx.State.event_handlers  # the event Reflex 0.10 connects with
