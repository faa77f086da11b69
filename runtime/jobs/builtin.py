"""Maintenance jobs that ship with the runtime."""

from __future__ import annotations

import logging

from .base import Payload, job

log = logging.getLogger(__name__)


@job("auth.purge_expired")
def purge_expired_auth(payload: Payload) -> None:
    """Delete expired login sessions and login attempts older than the throttling window."""
    # Imported here: runtime.auth may enqueue jobs itself, so no import cycle at load time.
    from runtime.auth import ratelimit, sessions

    removed = sessions.purge_expired()
    ratelimit.purge_old()
    log.info("auth.purge_expired: removed %d expired sessions", removed)
