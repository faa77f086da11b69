"""A JobQueue on Google Cloud Tasks: each job becomes an HTTP task that POSTs its JSON payload to
``{TASKS_TARGET_URL}/tasks/{name}`` at ``run_at``; the route (runtime.api.routes.tasks)
authenticates the call and runs :func:`runtime.jobs.base.dispatch`.

Delivery is at least once (Cloud Tasks retries, and may deliver twice): handlers must be
idempotent, as every handler here is. ``enqueue_in`` creates the task when the caller's
transaction commits (a rolled-back transaction creates none).

Local runs and tests point ``CLOUD_TASKS_EMULATOR_HOST`` at gcloud-tasks-emulator (plain gRPC,
no credentials); the queue is created there on first use. In GCP the queue is created by the
deployment (``gcloud tasks queues create``) and tasks carry an OIDC token of
``TASKS_OIDC_SERVICE_ACCOUNT`` when set.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from runtime.config import Settings, get_settings

from .base import Payload, encode_payload, get_handler

log = logging.getLogger(__name__)

_PENDING = "cloud_tasks_pending"


class CloudTasksJobQueue:
    """JobQueue whose jobs are Cloud Tasks HTTP tasks."""

    def __init__(self, settings: Settings | None = None, client: Any = None) -> None:
        self._settings = settings or get_settings()
        s = self._settings
        if not s.cloud_tasks_project:
            raise ValueError("CLOUD_TASKS_PROJECT is required for the Cloud Tasks engine")
        self._client = client
        self._lock = threading.Lock()
        self._queue_ready = False
        self.queue_path = (
            f"projects/{s.cloud_tasks_project}/locations/{s.cloud_tasks_location}/queues/{s.cloud_tasks_queue}"
        )
        self.target_url = (s.tasks_target_url or s.public_url).rstrip("/")

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import tasks_v2

                host = self._settings.cloud_tasks_emulator_host
                if host:
                    import grpc
                    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

                    transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(host))
                    self._client = tasks_v2.CloudTasksClient(transport=transport)
                else:
                    self._client = tasks_v2.CloudTasksClient()
            return self._client

    def _ensure_queue(self) -> None:
        # Only the emulator starts empty; in GCP the deployment owns the queue (and its retry policy).
        if self._queue_ready or not self._settings.cloud_tasks_emulator_host:
            return
        from google.api_core.exceptions import AlreadyExists

        parent, _, _ = self.queue_path.rpartition("/queues/")
        with contextlib.suppress(AlreadyExists):
            self.client.create_queue(parent=parent, queue={"name": self.queue_path})
        self._queue_ready = True

    def build_task(self, name: str, payload: Payload, run_at: datetime | None = None) -> dict[str, Any]:
        """The task as the Cloud Tasks API takes it (a dict the client turns into a tasks_v2.Task)."""
        from google.cloud import tasks_v2
        from google.protobuf import timestamp_pb2

        s = self._settings
        headers = {"Content-Type": "application/json"}
        if s.tasks_secret is not None:
            headers["X-Tasks-Secret"] = s.tasks_secret.get_secret_value()
        request: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": f"{self.target_url}/tasks/{name}",
            "headers": headers,
            "body": encode_payload(payload),
        }
        if s.tasks_oidc_service_account:
            request["oidc_token"] = {
                "service_account_email": s.tasks_oidc_service_account,
                "audience": s.tasks_oidc_audience or self.target_url,
            }
        task: dict[str, Any] = {"http_request": request}
        if run_at is not None:
            if run_at.tzinfo is None:
                raise ValueError("run_at must be timezone-aware")
            ts = timestamp_pb2.Timestamp()
            ts.FromDatetime(run_at)
            task["schedule_time"] = ts
        return task

    def enqueue(self, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        get_handler(name)  # an unknown name fails here, not as a 404 later
        task = self.build_task(name, payload, run_at)
        self._ensure_queue()
        created = self.client.create_task(parent=self.queue_path, task=task)
        log.debug("cloud task %s for job %s at %s", created.name, name, run_at)
        return created.name

    def enqueue_in(self, session: Session, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        """Create the task once ``session``'s transaction commits; returns "" (the task's name is
        known only then). Nothing is created if the transaction rolls back."""
        get_handler(name)
        pending: list[tuple[str, Payload, datetime | None]] | None = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_rollback", _forget)
        pending.append((name, payload, run_at))
        return ""

    def _after_commit(self, session: Session) -> None:
        pending = session.info.pop(_PENDING, [])
        for name, payload, run_at in pending:
            try:
                self.enqueue(name, payload, run_at)
            except Exception:  # committed rows stay; a sweep (followups.sweep) can re-enqueue them
                log.exception("could not create the cloud task for job %s", name)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
