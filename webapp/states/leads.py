"""Leads state: the filtered list and the CSV download (rules in runtime.panel.leads)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from runtime.panel import leads as svc

from ..state import PanelState
from .service_call import service_call

STAGE_LABELS = {
    "new": "Novo",
    "qualifying": "Em qualificação",
    "qualified": "Qualificado",
    "proposal": "Proposta",
    "won": "Ganho",
    "lost": "Perdido",
}
TYPE_LABELS = {"lead": "Lead", "customer": "Cliente", "supplier": "Fornecedor", "other": "Outro"}


@dataclasses.dataclass
class LeadRow:
    id: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    stage: str = ""
    stage_label: str = ""
    score: int = 0
    type_label: str = ""
    tags: str = ""
    last: str = ""
    conversation_id: str = ""
    opted_out: bool = False


class LeadsState(PanelState):
    rows: list[LeadRow] = []
    stage_counts: dict[str, int] = {}
    stage: str = ""
    search: str = ""
    loading: bool = True

    async def _refresh(self) -> None:
        data = await self._run(svc.list_leads, self.search, self.stage)
        self.stage_counts = data["stages"]
        self.rows = [
            LeadRow(
                id=r["id"],
                name=r["name"],
                phone=r["phone"],
                email=r["email"],
                stage=r["stage"],
                stage_label=STAGE_LABELS.get(r["stage"], r["stage"]),
                score=r["score"],
                type_label=TYPE_LABELS.get(r["lead_type"], r["lead_type"]),
                tags=", ".join(r["tags"]),
                last=r["last_label"] or "—",
                conversation_id=r["conversation_id"],
                opted_out=r["opted_out"],
            )
            for r in data["leads"]
        ]
        self.loading = False

    @rx.event
    @service_call
    async def load(self):
        await self._refresh()

    @rx.event
    @service_call
    async def set_stage(self, stage: str):
        self.stage = "" if self.stage == stage else stage
        await self._refresh()

    @rx.event
    @service_call
    async def run_search(self, form: dict):
        self.search = str(form.get("q", "")).strip()
        await self._refresh()

    @rx.event
    @service_call
    async def export(self):
        data = await self._run(svc.export_csv, self.search, self.stage)
        return rx.download(data=data, filename="leads.csv")
