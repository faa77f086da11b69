"""Status page state: one call to runtime.panel.status.system_status, split into typed fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from runtime.panel.status import system_status

from ..state import PanelState
from .service_call import service_call


@dataclass
class JobFailure:
    job: str = ""
    when: str = ""
    error: str = ""


@dataclass
class ChannelHealth:
    id: str = ""
    name: str = ""
    provider_label: str = ""
    status: str = ""
    status_color: str = "gray"
    last_event_ago: str = ""
    last_error: str = ""


@dataclass
class AgentModel:
    name: str = ""
    provider: str = ""
    model: str = ""
    key: str = ""
    state: str = ""
    problem: str = ""
    level: str = "ok"


class StatusState(PanelState):
    loaded: bool = False
    refreshing: bool = False
    checked_time: str = ""
    overall: str = "ok"
    overall_label: str = ""

    db_ok: bool = False
    db_level: str = "ok"
    db_latency_ms: float = 0
    db_version: str = ""
    db_error: str = ""

    jobs_level: str = "ok"
    jobs_pending: int = 0
    jobs_scheduled: int = 0
    jobs_running: int = 0
    jobs_failed: int = 0
    jobs_oldest: str = "—"
    jobs_workers: int = 0
    job_failures: list[JobFailure] = rx.field(default_factory=list)

    channels_level: str = "ok"
    channels: list[ChannelHealth] = rx.field(default_factory=list)

    llm_level: str = "ok"
    llm_agents: list[AgentModel] = rx.field(default_factory=list)
    llm_last_reply: str = ""
    llm_last_error: str = ""
    llm_last_error_ago: str = ""

    def _apply(self, st: dict[str, Any]) -> None:
        self.checked_time = st["checked_time"]
        self.overall, self.overall_label = st["overall"], st["overall_label"]
        db = st["database"]
        self.db_ok, self.db_level, self.db_latency_ms = db["ok"], db["level"], db["latency_ms"]
        self.db_version, self.db_error = db["version"], db["error"]
        jobs = st["jobs"] or {}
        self.jobs_level = jobs.get("level", "error")
        self.jobs_pending = jobs.get("pending", 0)
        self.jobs_scheduled = jobs.get("scheduled", 0)
        self.jobs_running = jobs.get("running", 0)
        self.jobs_failed = jobs.get("failed", 0)
        self.jobs_oldest = jobs.get("oldest_pending", "—")
        self.jobs_workers = jobs.get("workers", 0)
        self.job_failures = [JobFailure(**f) for f in jobs.get("recent_failures", [])]
        self.channels_level = st["channels_level"]
        self.channels = [ChannelHealth(**c) for c in st["channels"]]
        llm = st["llm"] or {}
        self.llm_level = llm.get("level", "error")
        self.llm_agents = [AgentModel(**a) for a in llm.get("agents", [])]
        self.llm_last_reply = llm.get("last_reply_ago", "")
        self.llm_last_error = llm.get("last_error", "")
        self.llm_last_error_ago = llm.get("last_error_ago", "")
        self.loaded = True

    @rx.event
    @service_call
    async def load(self):
        self._apply(await self._run(system_status))

    @rx.event
    @service_call(busy="refreshing")
    async def refresh(self):
        yield
        self._apply(await self._run(system_status))
        yield rx.toast.success("Status atualizado.", duration=2000)
