"""Maintenance jobs that ship with the runtime."""

from __future__ import annotations

import logging

from .base import Payload, job
from .names import PURGE_EXPIRED_AUTH

log = logging.getLogger(__name__)


@job(PURGE_EXPIRED_AUTH)
def purge_expired_auth(payload: Payload) -> None:
    """Delete expired login sessions and login attempts older than the throttling window."""
    # Imported here: runtime.auth may enqueue jobs itself, so no import cycle at load time.
    from runtime.auth import ratelimit, sessions

    removed = sessions.purge_expired()
    ratelimit.purge_old()
    log.info("%s: removed %d expired sessions", PURGE_EXPIRED_AUTH, removed)
