"""Secrets that travel in URLs (the Evolution/Z-API webhook secret, invitation and password-link
tokens) kept out of the servers' access logs: the request line is logged with them masked."""

from __future__ import annotations

import logging
import re

_SECRET_PARAM = re.compile(r"([?&](?:secret|token)=)[^&#\s]+", re.IGNORECASE)
ACCESS_LOGGERS = ("uvicorn.access", "granian.access")


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Idempotent: each access logger gets one filter."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
