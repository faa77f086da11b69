"""Text from outside made storable: PostgreSQL refuses NUL in text and jsonb (`\\u0000`), and lone
surrogates cannot be encoded as UTF-8 at all. One such character in a webhook, a document or a
transcript must not fail the whole write, so everything stored from outside passes through here."""

from __future__ import annotations

import re
from typing import Any

# NUL is dropped (it carries nothing); a lone surrogate becomes U+FFFD, the replacement character.
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def pg_text(value: str) -> str:
    """`value` without the code points PostgreSQL refuses (fast path: nothing to do)."""
    if not _REFUSED.search(value):
        return value
    return _REFUSED.sub(_replace, value)


def pg_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string key and value cleaned by pg_text."""
    if isinstance(value, str):
        return pg_text(value)
    if isinstance(value, dict):
        return {pg_text(k) if isinstance(k, str) else k: pg_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [pg_json(v) for v in value]
    return value


def has_refused(value: str) -> bool:
    """Whether `value` holds a code point PostgreSQL refuses (input checks that answer 422)."""
    return _REFUSED.search(value) is not None
