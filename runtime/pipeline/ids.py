"""Provider message ids as stored (message.provider_message_id is varchar(255))."""

from __future__ import annotations

import hashlib

MAX_PROVIDER_ID = 255  # message.provider_message_id


def provider_id(value: str) -> str:
    """A provider's message id as stored: as it came, or its SHA-256 when too long for the column
    (deterministic, so a redelivery and a later status find the same row)."""
    if len(value) <= MAX_PROVIDER_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
