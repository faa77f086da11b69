"""Checks every API request passes before its route runs, so that no route has to repeat them:
text PostgreSQL cannot store (NUL, lone surrogates) is the caller's error, a 422 that names the
field, never a 500 from the database. Integer bounds live in the schema (Query/Field ge/le)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile

from runtime.pgtext import has_refused, pg_text

REFUSED_TEXT = "text must not contain NUL (\\u0000) or unpaired surrogate characters"

# Pagination of list endpoints. OFFSET is a bigint in PostgreSQL; past a million rows, page by filter.
MAX_PAGE = 200
MAX_OFFSET = 1_000_000
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _refused(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """Locations of refused text in a decoded JSON value (keys and values) or a plain string."""
    if isinstance(value, str):
        if has_refused(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and has_refused(key):
                yield (*loc, key)
            yield from _refused(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _refused(item, (*loc, i))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def refuse_unstorable_text(request: Request) -> None:
    """Path and query parameters, JSON bodies (keys too) and form fields (and file names):
    any NUL or lone surrogate answers 422. A body that is not valid JSON is left to the route."""
    found: list[tuple[str | int, ...]] = []
    for name, value in request.path_params.items():
        found += _refused(value, ("path", name))
    for name, value in request.query_params.multi_items():
        found += _refused({name: value}, ("query",))
    content_type = request.headers.get("content-type", "")
    if _is_json(content_type):
        if await request.body():
            try:
                body = await request.json()
            except ValueError:
                body = None  # FastAPI (or the route) answers for malformed JSON
            found += _refused(body, ("body",))
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        for name, value in form.multi_items():
            text = (value.filename or "") if isinstance(value, UploadFile) else value
            found += _refused({name: text}, ("body",))
    if found:
        # The input is not echoed back, and names in `loc` are cleaned: a lone surrogate could not
        # even be encoded into the JSON answer.
        errors = [
            {
                "type": "string_refused",
                "loc": tuple(pg_text(p) if isinstance(p, str) else p for p in loc),
                "msg": REFUSED_TEXT,
            }
            for loc in found
        ]
        raise RequestValidationError(errors)
