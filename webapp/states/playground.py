"""Playground page state: the agent picked, the simulated conversation and the trace of the reply
selected in the side panel. Every action is a runtime.panel.playground service."""

from __future__ import annotations

import mimetypes
from typing import Any

import reflex as rx

from runtime.panel import playground as service

from ..state import PanelState
from .service_call import service_call

SCROLL_DOWN = rx.call_script(
    "setTimeout(() => { const el = document.getElementById('playground-messages');"
    " if (el) el.scrollTo({top: el.scrollHeight, behavior: 'smooth'}); }, 50)"
)
SESSION = "principal"  # one playground conversation per user and agent (kept across reloads)


def _bubble(raw: dict[str, Any], index: int) -> dict[str, str]:
    """A bubble as the page renders it: strings only (Reflex vars index them safely)."""
    t = raw.get("trace") or {}
    tokens = int(t.get("tokens_in") or 0) + int(t.get("tokens_out") or 0)
    return {
        "index": str(index),
        "role": raw.get("role", ""),
        "text": raw.get("text", ""),
        "attachment": raw.get("attachment", ""),
        "attachment_kind": raw.get("attachment_kind", ""),
        "attachment_text": raw.get("attachment_text", ""),
        "suggestion": "1" if raw.get("suggestion") else "",
        "route": t.get("route_label", ""),
        "intent": t.get("intent_label") or t.get("intent", ""),
        "lead_type": t.get("lead_type_label", ""),
        "sources": str(len(t.get("sources") or [])),
        "tokens": str(tokens) if tokens else "",
        "tools": str(len(t.get("tool_calls") or [])),
    }


class PlaygroundState(PanelState):
    loaded: bool = False
    agents: list[dict[str, str]] = rx.field(default_factory=list)
    agent_id: str = ""
    mode: str = "pilot"
    mode_label: str = ""
    messages: list[dict[str, str]] = rx.field(default_factory=list)
    sending: bool = False
    attachment_name: str = ""
    max_upload_mb: int = 16

    # the reply whose trace the side panel shows
    selected: int = -1
    sel_route: str = ""
    sel_intent: str = ""
    sel_action: str = ""
    sel_lead_type: str = ""
    sel_confidence: str = ""
    sel_tokens_in: int = 0
    sel_tokens_out: int = 0
    sel_handoff: str = ""
    sel_next_step: str = ""
    sel_mode: str = ""
    sel_sources: list[dict[str, str]] = rx.field(default_factory=list)
    sel_tools: list[dict[str, str]] = rx.field(default_factory=list)
    sel_documents: list[str] = rx.field(default_factory=list)
    sel_errors: list[str] = rx.field(default_factory=list)

    _traces: dict[int, dict[str, Any]] = rx.field(default_factory=dict)
    _attachment: dict[str, Any] | None = None

    @rx.var
    def has_agents(self) -> bool:
        return len(self.agents) > 0

    @rx.var
    def agent_name(self) -> str:
        return next((a["name"] for a in self.agents if a["id"] == self.agent_id), "")

    @rx.var
    def agent_model(self) -> str:
        return next((a["model"] for a in self.agents if a["id"] == self.agent_id), "")

    @rx.var
    def agent_needs_key(self) -> bool:
        return any(a["id"] == self.agent_id and a["needs_key"] for a in self.agents)

    @rx.var
    def has_selection(self) -> bool:
        return self.selected >= 0

    # --- loading ---------------------------------------------------------------------------

    def _show(self, raw: list[dict[str, Any]]) -> None:
        self.messages = [_bubble(m, i) for i, m in enumerate(raw)]
        self._traces = {i: m["trace"] for i, m in enumerate(raw) if m.get("role") == "agent" and m.get("trace")}
        last = max(self._traces) if self._traces else -1
        self._select(last)

    def _select(self, index: int) -> None:
        t = self._traces.get(index)
        self.selected = index if t else -1
        t = t or {}
        self.sel_route = t.get("route_label", "")
        self.sel_intent = t.get("intent_label") or t.get("intent", "")
        self.sel_action = t.get("action", "")
        self.sel_lead_type = t.get("lead_type_label", "")
        confidence = t.get("confidence")
        self.sel_confidence = f"{round(float(confidence) * 100)}%" if confidence is not None and t else ""
        self.sel_tokens_in = int(t.get("tokens_in") or 0)
        self.sel_tokens_out = int(t.get("tokens_out") or 0)
        self.sel_handoff = t.get("handoff_reason", "")
        self.sel_next_step = t.get("next_step", "")
        self.sel_mode = "Copiloto (sugestão)" if t.get("mode") == "copilot" else ("Piloto" if t else "")
        self.sel_sources = [
            {"label": s.get("label", ""), "score": f"{float(s.get('score') or 0):.2f}"} for s in t.get("sources") or []
        ]
        self.sel_tools = [{"name": c.get("name", ""), "args": c.get("args", "")} for c in t.get("tool_calls") or []]
        self.sel_documents = list(t.get("documents") or [])
        self.sel_errors = [str(e) for e in t.get("errors") or []]

    @rx.event
    @service_call
    async def load(self):
        self.loaded = True  # the workspace or, when it fails, the toast saying why (sent together)
        view = await self._run(service.overview)
        self.agents = [
            {"id": a["id"], "name": a["name"], "model": a["model"], "needs_key": "1" if a["needs_key"] else ""}
            for a in view["agents"]
        ]
        self.max_upload_mb = max(1, int(view["max_upload_bytes"]) // 1_000_000)
        if self.agent_id not in {a["id"] for a in self.agents}:
            self.agent_id = self.agents[0]["id"] if self.agents else ""
        self.mode_label = next((m["label"] for m in view["modes"] if m["value"] == self.mode), "")
        self._show(await self._run(service.history, self.agent_id, SESSION) if self.agent_id else [])
        return SCROLL_DOWN

    @rx.event
    @service_call
    async def choose_agent(self, agent_id: str):
        history = await self._run(service.history, agent_id, SESSION)
        self.agent_id = agent_id
        self._show(history)
        return SCROLL_DOWN

    @rx.event
    @service_call
    async def choose_mode(self, mode: str | list[str]):
        mode = mode[0] if isinstance(mode, list) and mode else mode
        result = await self._run(service.set_mode, self.agent_id, SESSION, mode)
        self.mode, self.mode_label = result["mode"], result["label"]

    @rx.event
    def select(self, index: str):
        self._select(int(index))

    @rx.event
    @service_call
    async def restart(self):
        self._show(await self._run(service.reset, self.agent_id, SESSION))
        self._clear_attachment()
        return rx.toast.success("Conversa reiniciada: o agente começa do zero.")

    # --- composing -------------------------------------------------------------------------

    @rx.event
    async def attach(self, files: list[rx.UploadFile]):
        if not files:
            return None
        file = files[0]
        data = await file.read()
        if len(data) > self.max_upload_mb * 1_000_000:
            return rx.toast.error(f"Arquivo maior que o limite de {self.max_upload_mb} MB.", close_button=True)
        name = file.name or "arquivo"
        mime = getattr(file, "content_type", None) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._attachment = {"filename": name, "data": data, "mime_type": mime}
        self.attachment_name = name
        return None

    @rx.event
    def attach_rejected(self, rejected: list[dict[str, Any]]):
        return rx.toast.error(
            f"Arquivo não aceito: envie um áudio, imagem, PDF ou DOCX de até {self.max_upload_mb} MB.",
            close_button=True,
        )

    def _clear_attachment(self) -> None:
        self._attachment = None
        self.attachment_name = ""

    @rx.event
    def clear_attachment(self):
        self._clear_attachment()

    @rx.event
    async def send(self, form: dict[str, Any]):
        text = str(form.get("text") or "").strip()
        if not text and self._attachment is None:
            yield rx.toast.error("Escreva uma mensagem ou anexe um arquivo.", close_button=True)
            return
        async for event in self._send(text):
            yield event

    def _drop_sent_bubble(self, exc: Exception) -> None:
        self.messages = self.messages[:-1]

    @service_call(busy="sending", on_error=_drop_sent_bubble)
    async def _send(self, text: str):
        attachment = self._attachment
        # the lead's bubble shows at once; the agent's arrives with its trace
        self.messages = [
            *self.messages,
            _bubble(
                {"role": "lead", "text": text, "attachment": attachment["filename"] if attachment else ""},
                len(self.messages),
            ),
        ]
        self._clear_attachment()
        yield SCROLL_DOWN
        out = await self._run(service.send_message, self.agent_id, SESSION, text, attachment, self.mode)
        base = len(self.messages) - 1
        lead, reply = _bubble(out["lead"], base), _bubble(out["reply"], base + 1)
        self.messages = [*self.messages[:-1], lead, reply]
        if out["reply"].get("trace"):
            self._traces = {**self._traces, base + 1: out["reply"]["trace"]}
            self._select(base + 1)
        self.sending = False  # before the scroll, so the typing bubble is gone when it runs
        yield SCROLL_DOWN
