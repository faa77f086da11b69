"""Every job's name, defined once. The module that registers a handler (@job) and every module
that enqueues or names the job import the constant from here: a leaf module, so naming a job
(the status page's labels, the worker's periodic list, the inbound pipeline's turn) loads no
feature and makes no import cycle. Names are persisted in queued rows and in Cloud Tasks URLs
(/tasks/{name}): renaming one strands the jobs already queued under the old name."""

from __future__ import annotations

from typing import Final

# A lead's turn and what it sends (lane interactive)
PROCESS_TURN: Final = "pipeline.process_turn"  # runtime.pipeline.turns
SEND_MESSAGE: Final = "channels.send_message"  # runtime.pipeline.outbound
FOLLOWUP_STEP: Final = "followups.run_step"  # runtime.followups.service

# Knowledge
INGEST_DOCUMENT: Final = "knowledge.ingest_document"  # runtime.knowledge.documents
DRIVE_SYNC: Final = "knowledge.drive_sync"  # runtime.knowledge.drive
REEMBED: Final = "knowledge.reembed"  # runtime.knowledge.reembed

# E-mail
INVITATION_EMAIL: Final = "team.invitation_email"  # runtime.auth.invitation_email
PASSWORD_RESET_EMAIL: Final = "auth.password_reset_email"  # noqa: S105 - runtime.auth.password_reset
EMAIL_VERIFICATION_EMAIL: Final = "auth.email_verification_email"  # runtime.auth.email_verification

# Maintenance (enqueued by every worker: runtime.jobs.postgres.PERIODIC_JOBS)
SWEEP_FOLLOWUPS: Final = "followups.sweep"  # runtime.followups.service
SWEEP_SENDS: Final = "pipeline.sweep_sends"  # runtime.pipeline.outbound
PURGE_EXPIRED_AUTH: Final = "auth.purge_expired"  # runtime.jobs.builtin
PURGE_OLD_WEBHOOK_EVENTS: Final = "webhooks.purge_old_events"  # runtime.channels.webhook_retention

# Domain events: one after-commit subscriber for one event (runtime.events.bus)
DELIVER_EVENT: Final = "events.deliver"  # runtime.events.bus
