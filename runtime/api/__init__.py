"""FastAPI service: /healthz, /auth/*, /api/v1/* (and later /webhooks/*, /tasks/*)."""

from .app import create_app

__all__ = ["create_app"]
