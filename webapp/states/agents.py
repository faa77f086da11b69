"""State of the Agentes page: the list of agents and the editor's form (runtime.panel.agents)."""

from __future__ import annotations

import re
from typing import Any

import reflex as rx

from runtime.access import UserError
from runtime.panel import agents as svc

from ..state import PanelState
from .service_call import service_call

# Tab values of the editor, and the names the service's messages use for them ("Aba X › ...").
TABS = {
    svc.TAB_PERSONA: "persona",
    svc.TAB_QUALIFICATION: "qualificacao",
    svc.TAB_RULES: "comportamento",
    svc.TAB_MODEL: "modelo",
    svc.TAB_HANDOFF: "transferencia",
    svc.TAB_VOICE: "voz",
    svc.TAB_HOURS: "horario",
    svc.TAB_FOLLOWUP: "followup",
}
LLM_KEY_ID = "f-llm_api_key"  # the key's input (pages.agents)
SAVED = "Agente salvo. As mudanças valem a partir da próxima mensagem dos clientes."


class AgentsState(PanelState):
    agents: list[dict[str, Any]] = rx.field(default_factory=list)
    loaded: bool = False

    editing: bool = False
    form: dict[str, Any] = rx.field(default_factory=dict)
    qualification: list[dict[str, Any]] = rx.field(default_factory=list)
    followup_steps: list[dict[str, Any]] = rx.field(default_factory=list)
    intents: list[dict[str, Any]] = rx.field(default_factory=list)
    hours: list[dict[str, Any]] = rx.field(default_factory=list)
    tab: str = "persona"
    error: str = ""
    saving: bool = False
    opening: str = ""  # id of the agent being opened
    uploading: bool = False
    # The LLM API key being typed: backend-only, so it is never echoed back to the page, replayed
    # on reconnect or kept in the synced form (whose "llm_api_key" the runtime always leaves empty).
    _llm_api_key: str = ""
    llm_key_typed: bool = False

    @rx.var
    def is_new(self) -> bool:
        return not self.form.get("id")

    @rx.var
    def editor_title(self) -> str:
        return self.form.get("name") or "Novo agente" if self.editing else ""

    # --- list -------------------------------------------------------------------------------

    @service_call
    async def _refresh(self):
        self.loaded = True  # the list or, when it fails, the toast saying why (sent together)
        self.agents = await self._run(svc.list_agents)

    @rx.event
    async def load(self):
        self.editing, self.error = False, ""
        return await self._refresh()

    def _open(self, form: dict[str, Any]) -> None:
        self.qualification = form.pop("qualification")
        self.intents = form.pop("intents")
        self.hours = form.pop("hours")
        self.followup_steps = form.pop("followup_steps")
        self.form = form
        self.tab, self.error, self.editing = "persona", "", True
        self._llm_api_key, self.llm_key_typed = "", False

    @rx.event
    def new_agent(self):
        self._open(svc.blank_form())

    @rx.event
    @service_call(busy="opening", busy_with="agent_id")
    async def edit(self, agent_id: str):
        yield
        self._open(await self._run(svc.get_agent, agent_id))

    @rx.event
    async def back(self):
        self.editing, self.error = False, ""
        return await self._refresh()

    @rx.event
    @service_call
    async def delete(self, agent_id: str):
        gone = await self._run(svc.delete_agent, agent_id)
        self.editing = False
        await self._refresh()
        note = f" {gone['channels_unbound']} canal(is) ficou(aram) sem agente." if gone["channels_unbound"] else ""
        return rx.toast.success(f"Agente {gone['name']} excluído.{note}")

    # --- editor -----------------------------------------------------------------------------

    @rx.event
    def set_tab(self, value: str):
        self.tab = value

    @rx.event
    def set_field(self, key: str, value: Any):
        self.form = {**self.form, key: value}

    @rx.event
    def set_llm_api_key(self, value: str):
        self._llm_api_key, self.llm_key_typed = value, bool(value)

    @rx.event
    def set_row(self, table: str, index: int, key: str, value: Any):
        rows = [dict(r) for r in getattr(self, table)]
        rows[index][key] = value
        setattr(self, table, rows)

    @rx.event
    def add_qualification(self):
        self.qualification = [*self.qualification, {"key": "", "label": "", "question": "", "required": True}]

    @rx.event
    def add_intent(self):
        row = {"name": "", "match": "keywords", "patterns": "", "response": "", "action": "reply"}
        self.intents = [*self.intents, row]

    @rx.event
    def add_followup_step(self):
        self.followup_steps = [*self.followup_steps, svc.blank_followup_step()]

    @rx.event
    def remove_row(self, table: str, index: int):
        rows = list(getattr(self, table))
        rows.pop(index)
        setattr(self, table, rows)

    def _show_refusal(self, exc: Exception) -> None:
        """A refusal stays above the tabs, and the tab it names opens ("Aba X › ...")."""
        if isinstance(exc, UserError):
            self.error = str(exc)
            m = re.match(r"Aba ([\w-]+)", self.error)
            if m and m.group(1) in TABS:
                self.tab = TABS[m.group(1)]

    @rx.event
    @service_call(busy="saving", on_error=_show_refusal)
    async def save(self):
        self.error = ""
        yield
        data = {
            **self.form,
            "llm_api_key": self._llm_api_key,
            "qualification": self.qualification,
            "intents": self.intents,
            "hours": self.hours,
            "followup_steps": self.followup_steps,
        }
        saved = await self._run(svc.save_agent, self.form.get("id") or None, data)
        self._reopen(saved)
        self.agents = await self._run(svc.list_agents)
        yield [rx.set_value(LLM_KEY_ID, ""), rx.toast.success(SAVED)]

    def _reopen(self, saved: dict[str, Any]) -> None:
        """The saved agent back in the editor, on the tab that was open."""
        tab = self.tab
        self._open(saved)
        self.tab = tab

    @rx.event
    async def upload_voice(self, files: list[rx.UploadFile]):
        if not files:
            yield rx.toast.error("Escolha um arquivo de áudio com 1 a 3 minutos de fala.")
            return
        sample = files[0]
        data = await sample.read()
        async for event in self._register_voice(data, getattr(sample, "content_type", None) or "audio/mpeg"):
            yield event

    @service_call(busy="uploading")
    async def _register_voice(self, data: bytes, mime_type: str):
        yield
        replies = self.form.get("voice_replies")
        saved = await self._run(
            svc.register_voice,
            self.form.get("id"),
            self.form.get("voice_name") or "",
            data,
            mime_type,
            replies if replies != "never" else "when_lead_sent_audio",
        )
        self._reopen(saved)
        yield rx.toast.success("Voz registrada. O agente vai responder com ela.")
