"""Blocking job work on daemon threads.

asyncio.to_thread runs on the loop's default executor, whose threads every exit path waits for
(asyncio.run's shutdown, the interpreter's exit): one handler stuck in a model call would keep a
stopping worker alive long after its grace period and its leases were handed back. A daemon
thread per blocking call lets the process leave; the abandoned work is fenced by its lease."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """`await run_blocking(fn, *args)`: fn(*args) on a daemon thread, with the caller's context."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(result: Any = None, exc: BaseException | None = None) -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            result = context.run(fn, *args)
        except BaseException as exc:
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle, None, exc)
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=work, name=f"job-{getattr(fn, '__name__', 'work')}", daemon=True).start()
    return await future
