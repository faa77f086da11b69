"""`@service_call`: the one shape of a panel handler that calls runtime services.

Every such handler had the same frame around its body: raise a busy flag (the button's spinner),
try the service, turn a failure into the panel's answer (`PanelState._fail`: back to /login when
signed out, a pt-BR toast otherwise), and lower the flag whatever happened. The decorator is that
frame, so the handler holds only its own steps.

It keeps what Reflex reads from a handler: the function kind (a coroutine stays a coroutine, an
async generator stays one, so a `yield` still sends the page what changed so far), the name, the
signature and the annotations (`functools.wraps`; Reflex builds the event spec and converts the
payload, e.g. `list[rx.UploadFile]`, from them). It works on private helpers too (`_refresh`),
which Reflex does not register as events. Put it under `@rx.event`.

Not for background events: they may change the state only inside `async with self`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from reflex_base.event import BACKGROUND_TASK_MARKER

F = TypeVar("F", bound=Callable[..., Any])
OnError = Callable[[Any, Exception], Any]  # may be async


@overload
def service_call(fn: F, /) -> F: ...


@overload
def service_call(
    *, busy: str | None = None, busy_with: str | None = None, on_error: OnError | None = None
) -> Callable[[F], F]: ...


def service_call(
    fn: F | None = None,
    /,
    *,
    busy: str | None = None,
    busy_with: str | None = None,
    on_error: OnError | None = None,
) -> F | Callable[[F], F]:
    """Wrap an async panel handler (or helper) in the busy/try/fail/finally frame.

    busy: the state attribute that is set while the handler runs (True, or the value of the
        argument named by `busy_with`, e.g. the id of the row being changed) and reset at the
        end (False, or ""). The page sees it from the handler's first `yield` on; a handler that
        returns before yielding shows nothing (Reflex runs one event of a tab at a time, so the
        flag is down whenever a handler starts).
    on_error: `on_error(state, exc)` (plain or async) undoes the handler's own steps before
        `_fail` answers, e.g. forget the conversation that could not be opened.
    """

    if busy_with is not None and busy is None:
        raise TypeError("busy_with names the argument whose value the busy flag holds: give busy too")

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        if busy_with is not None and busy_with not in signature.parameters:
            raise TypeError(f"{fn.__qualname__} has no argument {busy_with!r}")

        def start(state: Any, args: tuple, kwargs: dict) -> None:
            if getattr(wrapper, BACKGROUND_TASK_MARKER, False):
                raise TypeError(f"{fn.__qualname__}: @service_call is not for background events")
            if busy is not None:
                value = signature.bind(state, *args, **kwargs).arguments[busy_with] if busy_with else True
                setattr(state, busy, value)

        async def failed(state: Any, exc: Exception) -> Any:
            if on_error is not None:
                undone = on_error(state, exc)
                if inspect.isawaitable(undone):
                    await undone
            return state._fail(exc)

        def finish(state: Any) -> None:
            if busy is not None:
                setattr(state, busy, "" if busy_with else False)

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def wrapper(state, *args, **kwargs):
                start(state, args, kwargs)
                try:
                    async with contextlib.aclosing(fn(state, *args, **kwargs)) as events:
                        async for event in events:
                            yield event
                except Exception as exc:
                    yield await failed(state, exc)
                finally:
                    finish(state)

        elif inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def wrapper(state, *args, **kwargs):
                start(state, args, kwargs)
                try:
                    return await fn(state, *args, **kwargs)
                except Exception as exc:
                    return await failed(state, exc)
                finally:
                    finish(state)

        else:
            raise TypeError(f"{fn.__qualname__}: @service_call wraps async handlers (services run off the event loop)")
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate
