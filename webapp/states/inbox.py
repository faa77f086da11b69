"""Inbox state: the conversation list, the open thread and the live loop. The rules (who sees
what, the 24-hour window, learning from handoff answers) live in runtime.panel.inbox."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import uuid
from typing import Any

import reflex as rx

from runtime.live import drain, hub
from runtime.panel import inbox as svc

from ..state import PanelState
from .service_call import service_call

log = logging.getLogger(__name__)

LIVE_CHECK_S = 15  # how often an idle live loop checks that its browser tab is still connected

STATUS_ICONS = {
    "queued": "clock",
    "sending": "clock",
    "sent": "check",
    "delivered": "check_check",
    "read": "check_check",
}


@dataclasses.dataclass
class Row:
    id: str = ""
    name: str = ""
    phone: str = ""
    provider: str = ""
    preview: str = ""
    time: str = ""
    unread: int = 0
    waiting_human: bool = False
    mode: str = ""
    status: str = ""
    assigned_name: str = ""
    assigned_to_me: bool = False


@dataclasses.dataclass
class Msg:
    id: str = ""
    direction: str = ""
    author: str = ""
    author_name: str = ""
    kind: str = ""
    text: str = ""
    transcript: str = ""
    media_url: str = ""
    filename: str = ""
    mime_type: str = ""
    media_error: str = ""
    status: str = ""
    status_icon: str = ""
    error: str = ""
    status_note: str = ""
    time: str = ""
    day: str = ""
    template: str = ""
    followup: bool = False


@dataclasses.dataclass
class Member:
    id: str = ""
    name: str = ""
    role: str = ""


@dataclasses.dataclass
class Quick:
    id: str = ""
    shortcut: str = ""
    text: str = ""


def _row(c: dict) -> Row:
    return Row(
        id=c["id"],
        name=c["name"],
        phone=c["phone"],
        provider=c["provider"],
        preview=c["preview"],
        time=c["time_label"],
        unread=c["unread"],
        waiting_human=c["waiting_human"],
        mode=c["mode"],
        status=c["status"],
        assigned_name=c["assigned_name"],
        assigned_to_me=c["assigned_to_me"],
    )


def _msg(m: dict) -> Msg:
    icon = {"failed": "circle_alert", "unknown": "circle_help"}.get(m["status"]) or STATUS_ICONS.get(m["status"], "")
    fields = {k: m[k] for k in Msg.__dataclass_fields__ if k in m}
    return Msg(**fields, status_icon=icon)


class InboxState(PanelState):
    view: str = "todas"
    search: str = ""
    rows: list[Row] = []
    counts: dict[str, int] = {}
    list_loading: bool = True

    current_id: str = ""
    thread_loading: bool = False
    messages: list[Msg] = []
    contact_name: str = ""
    contact_phone: str = ""
    provider: str = ""
    channel_name: str = ""
    agent_name: str = ""
    mode: str = ""
    taken_over: bool = False
    conv_status: str = ""
    assigned_user_id: str = ""
    assigned_name: str = ""
    window_has: bool = False
    window_open: bool = True
    window_closes: str = ""
    handoff_waiting: bool = False
    handoff_question: str = ""
    followup_next: str = ""  # "etapa 1 de 2 (texto) em 03/12 14:00"; empty = none scheduled
    followup_history: list[dict[str, str]] = rx.field(default_factory=list)
    suggestion_id: str = ""
    suggestion_draft: str = ""
    suggestion_next_step: str = ""
    suggestion_intent: str = ""
    lead: dict[str, str] = {}
    lead_tags: str = ""
    lead_fields: list[list[str]] = []

    composer: str = ""
    editing_suggestion: str = ""  # the suggestion being edited in the composer
    sending: bool = False
    team: list[Member] = []
    quick: list[Quick] = []
    live: bool = False
    # The page load the running live loop belongs to: a fresh id per load, so a loop started for
    # an earlier load (or for the last person on this tab, whose state was reset) stops.
    _live_gen: str = ""

    activity_open: bool = False
    activity_sellers: list[dict[str, str]] = []
    activity_recent: list[dict[str, str]] = []
    quick_open: bool = False

    # --- loading ------------------------------------------------------------------------------

    @rx.var
    def has_current(self) -> bool:
        return self.current_id != ""

    @rx.var
    def quick_matches(self) -> list[Quick]:
        """Quick replies matching a composer that starts with '/'."""
        text = self.composer.strip().lower()
        if not text.startswith("/"):
            return []
        return [q for q in self.quick if q.shortcut.startswith(text)][:6]

    async def _refresh_list(self) -> None:
        rows = await self._run(svc.conversations, self.view, self.search)
        self.counts = await self._run(svc.view_counts)
        self.rows = [_row(c) for c in rows]
        self.list_loading = False

    async def _refresh_thread(self) -> None:
        if not self.current_id:
            return
        t = await self._run(svc.thread, self.current_id)
        self.messages = [_msg(m) for m in t["messages"]]
        lead = t["lead"]
        self.contact_name, self.contact_phone = lead["name"] or lead["phone"], lead["phone"]
        self.provider, self.channel_name, self.agent_name = t["provider"], t["channel_name"], t["agent_name"]
        self.mode, self.taken_over, self.conv_status = t["mode"], t["taken_over"], t["status"]
        self.assigned_user_id, self.assigned_name = t["assigned_user_id"], t["assigned_name"]
        w = t["window"]
        self.window_has, self.window_open = w["has_window"], w["open"]
        self.window_closes = w["closes_label"]
        h = t["handoff"]
        self.handoff_waiting, self.handoff_question = h["waiting"], h["question"]
        f = t["followup"]
        p = f["pending"]
        self.followup_next = (
            f"etapa {p['step']} de {p['of']}" + (f" ({p['content']})" if p["content"] else "") + f" em {p['due']}"
            if p
            else ""
        )
        self.followup_history = [
            {k: str(v) for k, v in h.items() if k in ("step", "status", "status_label", "when", "reason")}
            for h in f["history"]
        ]
        s = t["suggestion"] or {}
        self.suggestion_id = s.get("id", "")
        self.suggestion_draft = s.get("draft", "")
        self.suggestion_next_step = s.get("next_step", "")
        self.suggestion_intent = s.get("intent", "")
        self.lead = {k: str(v) for k, v in lead.items() if k not in ("tags", "fields")}
        self.lead_tags = ", ".join(lead["tags"])
        self.lead_fields = [[k, v] for k, v in lead["fields"].items()]
        for r in self.rows:
            if r.id == self.current_id:
                r.unread = 0

    def _forget_thread(self, exc: Exception) -> None:
        self.current_id = ""

    @rx.event
    @service_call(on_error=_forget_thread)
    async def load(self):
        self.current_id = self.router.url.query_parameters.get("c", "") or self.current_id
        await self._refresh_list()
        self.team = [Member(**m) for m in await self._run(svc.team)]
        self.quick = [Quick(**q) for q in await self._run(svc.quick_replies)]
        if self.current_id:
            await self._refresh_thread()
        self._live_gen = uuid.uuid4().hex
        return InboxState.live_updates

    @rx.event
    @service_call
    async def set_view(self, view: str):
        self.view = view
        await self._refresh_list()

    @rx.event
    @service_call
    async def run_search(self, form: dict):
        self.search = str(form.get("q", "")).strip()
        await self._refresh_list()

    @rx.event
    @service_call(busy="thread_loading", on_error=_forget_thread)
    async def open(self, conversation_id: str):
        self.current_id = conversation_id
        self.composer, self.editing_suggestion = "", ""
        yield
        await self._refresh_thread()

    @rx.event
    def close_thread(self):
        self.current_id = ""

    # --- live ---------------------------------------------------------------------------------

    def _still_connected(self) -> bool:
        from reflex.utils.prerequisites import get_and_validate_app

        try:
            namespace = get_and_validate_app().app.event_namespace
        except Exception:
            return True
        return namespace is None or self.router.session.client_token in namespace.token_to_sid

    @rx.event(background=True)
    async def live_updates(self):
        """Re-read the list (and the open thread) whenever the database says something changed.

        Runs while this tab stays connected; a newer page load replaces it (generation check)."""
        async with self:
            gen = self._live_gen
            try:
                principal = await self._principal()
            except Exception:
                return
        try:
            async with hub().subscribe(principal.workspace_id) as queue:
                async with self:
                    self.live = True
                while True:
                    try:
                        first = await asyncio.wait_for(queue.get(), timeout=LIVE_CHECK_S)
                    except TimeoutError:
                        if not self._still_connected():
                            return
                        async with self:
                            if self._live_gen != gen:
                                return
                        continue
                    events = await drain(queue, first)
                    touched = {str(e.conversation_id) for e in events}
                    resync = any(e.conversation_id is None for e in events)
                    async with self:
                        if self._live_gen != gen:
                            return
                        try:
                            await self._refresh_list()
                            if self.current_id and (resync or self.current_id in touched):
                                await self._refresh_thread()
                        except Exception as exc:  # signed out meanwhile, or a blip: stop quietly
                            log.info("inbox live refresh stopped: %s", type(exc).__name__)
                            self.live = False
                            return
        finally:
            async with self:
                if self._live_gen == gen:
                    self.live = False

    # --- composing ----------------------------------------------------------------------------

    @rx.event
    def set_composer(self, value: str):
        self.composer = value

    @rx.event
    def use_quick(self, text: str):
        self.composer = text

    @rx.event
    @service_call(busy="sending")
    async def send(self):
        body = self.composer.strip()
        if not body:
            return
        yield
        if self.editing_suggestion:
            await self._run(svc.decide_suggestion, self.current_id, self.editing_suggestion, "edit", body)
        else:
            result = await self._run(svc.send_text, self.current_id, body)
            if result["learned"]:
                yield rx.toast.success("Resposta enviada e aprendida: o robô já sabe responder isso.")
        self.composer, self.editing_suggestion = "", ""
        await self._refresh_thread()

    @rx.event
    @service_call
    async def send_template(self, form: dict):
        variables = [v.strip() for v in str(form.get("variables", "")).split(",") if v.strip()]
        await self._run(svc.send_template, self.current_id, form.get("name", ""), form.get("language", ""), variables)
        await self._refresh_thread()
        return rx.toast.success("Modelo enviado.")

    @rx.event
    @service_call
    async def upload(self, files: list[rx.UploadFile]):
        for f in files:
            await self._run(svc.send_file, self.current_id, f.name or "arquivo", await f.read(), self.composer)
        self.composer = ""
        await self._refresh_thread()

    @rx.event
    @service_call
    async def send_recording(self, data_uri: str):
        """The browser's recording arrives as a data: URI when the seller stops recording."""
        header, _, encoded = (data_uri or "").partition(",")
        mime = header.removeprefix("data:").split(";")[0]
        try:
            audio = base64.b64decode(encoded, validate=True)
        except ValueError:
            return rx.toast.error("Não foi possível ler a gravação. Tente gravar de novo.")
        await self._run(svc.send_voice_note, self.current_id, audio, mime)
        await self._refresh_thread()
        return rx.toast.success("Áudio enviado.")

    @rx.event
    def recording_failed(self, error: dict):
        log.info("inbox recording failed: %s", str(error)[:200])
        return rx.toast.error("Não foi possível usar o microfone. Verifique a permissão do navegador.")

    @rx.event
    @service_call
    async def retry(self, message_id: str):
        await self._run(svc.retry_message, self.current_id, message_id)
        await self._refresh_thread()

    # --- copilot --------------------------------------------------------------------------------

    @rx.event
    @service_call
    async def accept_suggestion(self):
        await self._run(svc.decide_suggestion, self.current_id, self.suggestion_id, "accept")
        await self._refresh_thread()
        return rx.toast.success("Sugestão enviada.")

    @rx.event
    def edit_suggestion(self):
        self.composer, self.editing_suggestion = self.suggestion_draft, self.suggestion_id

    @rx.event
    @service_call
    async def dismiss_suggestion(self):
        await self._run(svc.decide_suggestion, self.current_id, self.suggestion_id, "reject")
        if self.editing_suggestion == self.suggestion_id:
            self.composer, self.editing_suggestion = "", ""
        await self._refresh_thread()

    # --- takeover, assignment, status -----------------------------------------------------------

    @service_call
    async def _act(self, fn, *args, ok: str = ""):
        await self._run(fn, self.current_id, *args)
        await self._refresh_thread()
        await self._refresh_list()
        return rx.toast.success(ok) if ok else None

    @rx.event
    async def take_over(self):
        return await self._act(svc.take_over, ok="Você assumiu a conversa. O robô fica em silêncio.")

    @rx.event
    async def cancel_followup(self):
        return await self._act(svc.cancel_followup, ok="Follow-up automático cancelado nesta conversa.")

    @rx.event
    async def hand_back(self):
        return await self._act(svc.hand_back, ok="Conversa devolvida ao robô.")

    @rx.event
    async def assign(self, user_id: str):
        return await self._act(svc.assign, user_id or None, ok="Conversa transferida.")

    @rx.event
    async def set_conv_status(self, status: str):
        return await self._act(svc.set_status, status, ok="Conversa encerrada." if status == "closed" else "Reaberta.")

    @rx.event
    @service_call
    async def save_lead(self, form: dict):
        data: dict[str, Any] = {
            k: form.get(k, "") for k in ("name", "email", "stage", "lead_type", "score", "notes", "tags", "crm_url")
        }
        await self._run(svc.update_lead, self.current_id, data)
        await self._refresh_thread()
        return rx.toast.success("Dados do lead salvos.")

    # --- the managers' extras: seller activity and quick replies ----------------------------------

    @rx.event
    @service_call
    async def open_activity(self):
        report = await self._run(svc.activity)
        self.activity_sellers = [
            {
                "name": r["name"],
                "messages": str(r["messages"]),
                "conversations": str(r["conversations"]),
                "median": _duration(r["median_response_s"]),
                "last": r["last_label"],
            }
            for r in report["sellers"]
        ]
        self.activity_recent = [
            {"at": r["at_label"], "seller": r["seller"], "lead": r["lead"], "text": r["text"]} for r in report["recent"]
        ]
        self.activity_open = True

    @rx.event
    def set_activity_open(self, value: bool):
        self.activity_open = value

    @rx.event
    def set_quick_open(self, value: bool):
        self.quick_open = value

    @rx.event
    @service_call
    async def save_quick(self, form: dict):
        await self._run(svc.save_quick_reply, form.get("shortcut", ""), form.get("text", ""))
        self.quick = [Quick(**q) for q in await self._run(svc.quick_replies)]
        return rx.toast.success("Resposta rápida salva.")

    @rx.event
    @service_call
    async def delete_quick(self, quick_id: str):
        await self._run(svc.delete_quick_reply, quick_id)
        self.quick = [Quick(**q) for q in await self._run(svc.quick_replies)]


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
