"""Reading a provider SDK's exception: its cause chain and a Retry-After hint (model and embedding
clients wrap httpx errors in their own types, sometimes twice)."""

from __future__ import annotations


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds from a Retry-After header on the failed response (429/503), when it has one."""
    for e in exception_chain(exc):
        headers = getattr(getattr(e, "response", None), "headers", None)
        value = headers.get("retry-after") if hasattr(headers, "get") else None
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
