"""The scheduling engine of follow-up steps, behind the JobQueue interface of runtime.jobs:
FOLLOWUPS_ENGINE=postgres (the default job queue, punctual to about a second) or cloudtasks (one
Google Cloud Tasks HTTP task per step, delivered to POST /tasks/followups.run_step)."""

from __future__ import annotations

import threading

from runtime.config import get_settings
from runtime.jobs import JobQueue, get_queue

_lock = threading.Lock()
_cloud: dict[tuple, JobQueue] = {}


def followup_queue() -> JobQueue:
    s = get_settings()
    if s.followups_engine != "cloudtasks":
        return get_queue()
    key = (
        s.cloud_tasks_project,
        s.cloud_tasks_location,
        s.cloud_tasks_queue,
        s.cloud_tasks_emulator_host,
        s.tasks_target_url,
        s.public_url,
        s.tasks_secret.get_secret_value() if s.tasks_secret else None,
        s.tasks_oidc_service_account,
    )
    with _lock:
        if key not in _cloud:
            from runtime.jobs.cloudtasks import CloudTasksJobQueue

            _cloud[key] = CloudTasksJobQueue(s)
        return _cloud[key]
