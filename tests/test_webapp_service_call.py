"""`@service_call`, the busy/try/fail/finally frame of the panel's handlers, on real Reflex states:
the flag the page sees, the answer to a failure, and what Reflex needs to build the event."""

from __future__ import annotations

import asyncio

import pytest
import reflex as rx
from reflex_base.event import resolve_upload_handler_param

from runtime.access import UserError
from webapp.state import PanelState
from webapp.states.service_call import service_call

REFUSED = "Informe o nome do agente."


class ServiceCallProbeState(PanelState):
    saving: bool = False
    busy_id: str = ""
    seen: list[str] = rx.field(default_factory=list)
    undone: bool = False

    def _undo(self, exc: Exception) -> None:
        self.undone = isinstance(exc, UserError)

    @rx.event
    @service_call(busy="saving", on_error=_undo)
    async def save(self, name: str, fail: bool = False):
        self.seen = [*self.seen, f"saving={self.saving}"]
        yield
        if fail:
            raise UserError(REFUSED)
        yield rx.toast.success(f"{name} salvo.")

    @rx.event
    @service_call(busy="busy_id", busy_with="row_id")
    async def remove(self, row_id: str):
        self.seen = [*self.seen, f"busy_id={self.busy_id}"]
        yield

    async def _undo_later(self, exc: Exception) -> None:
        await asyncio.sleep(0)
        self.undone = True

    @rx.event
    @service_call(on_error=_undo_later)
    async def load(self, fail: bool = False):
        if fail:
            raise UserError(REFUSED)
        return rx.toast.success("ok")

    @rx.event
    @service_call(busy="saving")
    async def upload(self, files: list[rx.UploadFile]):
        return None


def _state() -> ServiceCallProbeState:
    return ServiceCallProbeState(_reflex_internal_init=True)


def _js(spec) -> list[str]:
    """An event spec as the page receives it (EventSpec's == builds a Var, it does not compare)."""
    return [str(value) for _, value in spec.args]


def _events(state, name: str, *args, **kwargs) -> list[tuple[object, object]]:
    """What a handler yields, each with the busy flags at that moment (what that frame sends)."""
    fn = ServiceCallProbeState.event_handlers[name].fn

    async def run():
        return [(ev, (state.saving, state.busy_id)) async for ev in fn(state, *args, **kwargs)]

    return asyncio.run(run())


def test_the_flag_is_up_from_the_first_yield_and_down_at_the_end():
    state = _state()
    events = _events(state, "save", "Sofia")
    assert state.seen == ["saving=True"]
    assert [flags for _, flags in events] == [(True, ""), (True, "")]
    assert events[0][0] is None
    assert state.saving is False


def test_a_failure_becomes_the_panels_answer_after_the_handlers_own_undo():
    state = _state()
    events = _events(state, "save", "Sofia", fail=True)
    assert _js(events[-1][0]) == _js(state._fail(UserError(REFUSED)))  # the toast _fail gives a refusal
    assert REFUSED in _js(events[-1][0])[0]
    assert state.undone is True
    assert state.saving is False


def test_the_flag_can_hold_the_row_being_changed():
    state = _state()
    _events(state, "remove", "row-7")
    assert state.seen == ["busy_id=row-7"]
    assert state.busy_id == ""


def test_a_coroutine_stays_a_coroutine():
    state = _state()
    fn = ServiceCallProbeState.event_handlers["load"].fn
    assert asyncio.iscoroutinefunction(fn)
    assert _js(asyncio.run(fn(state))) == _js(rx.toast.success("ok"))
    assert state.undone is False
    assert _js(asyncio.run(fn(state, fail=True))) == _js(state._fail(UserError(REFUSED)))
    assert state.undone is True  # an async undo is awaited


def test_reflex_builds_the_event_from_the_handlers_own_signature():
    handler = ServiceCallProbeState.event_handlers["save"]
    assert list(handler.get_parameters()) == ["self", "name", "fail"]
    assert handler._get_type_hints() == {"name": str, "fail": bool}
    assert not handler.is_background
    spec = ServiceCallProbeState.save("Sofia")
    assert [str(value) for _, value in spec.args] == ['"Sofia"']
    # an upload handler is recognised by its list[rx.UploadFile] argument
    assert resolve_upload_handler_param(ServiceCallProbeState.event_handlers["upload"])[0] == "files"


def test_it_refuses_what_it_cannot_frame():
    with pytest.raises(TypeError, match="async"):

        @service_call
        def sync_handler(self):
            return None

    with pytest.raises(TypeError, match="give busy too"):
        service_call(busy_with="row_id")

    with pytest.raises(TypeError, match="no argument"):

        @service_call(busy="busy_id", busy_with="row_id")
        async def other(self, item_id: str):
            return None

    @rx.event(background=True)
    @service_call(busy="saving")
    async def in_background(self):
        return None

    with pytest.raises(TypeError, match="background"):
        asyncio.run(in_background(_state()))
