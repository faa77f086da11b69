"""Webhook authentication for gateways that sign nothing (Evolution, Z-API): an unguessable
per-channel secret in the webhook URL (?secret=...) or in an X-Webhook-Secret header. The header
keeps the secret out of request logs (proxies, load balancers and servers log URLs, not headers):
Evolution v2 sends custom webhook headers; Z-API doesn't, so there it takes a proxy in front."""

from __future__ import annotations

from collections.abc import Iterable

from runtime.security import constant_time_equals

from .base import CredentialSpec, WebhookRejected

SECRET_QUERY_PARAM = "secret"  # noqa: S105 - a parameter name, not a secret
SECRET_HEADER = "x-webhook-secret"  # noqa: S105 - lower-cased like WebhookRequest.headers
SECRET_HEADER_NAME = "X-Webhook-Secret"  # noqa: S105 - the same, as the owner types it into the provider
# The credential that holds it: generated when the channel is created, never typed into the panel.
WEBHOOK_SECRET = CredentialSpec(
    "webhook_secret", "Segredo do webhook", secret=True, help="Geramos um ao criar o canal; vai no endereço do webhook."
)


def check_shared_secret(candidates: Iterable[str | None], expected: str | None) -> None:
    """401 when no secret is offered, 403 when none matches; every candidate is compared in
    constant time (no short-circuit), and a channel without a secret never matches."""
    offered = [v for v in candidates if v]
    if not offered:
        raise WebhookRejected(401, "missing webhook secret (?secret=... or X-Webhook-Secret header)")
    matches = [constant_time_equals(v, expected or "\x00unset") for v in offered]
    if not expected or not any(matches):
        raise WebhookRejected(403, "invalid webhook secret")
