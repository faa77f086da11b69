"""Conhecimento page state: thin calls to runtime.panel.knowledge."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from runtime.config import get_settings
from runtime.panel import knowledge as kb

from ..state import PanelState
from .service_call import service_call

UPLOAD_ID = "knowledge-upload"
POLL_SECONDS = 1.5
POLL_MAX = 400  # ~10 minutes of watching documents being processed


def _pending(docs: list[dict[str, Any]]) -> bool:
    return any(d["status"] in kb.PENDING for d in docs)


class KnowledgeState(PanelState):
    loading: bool = True
    documents: list[dict[str, Any]] = rx.field(default_factory=list)
    max_mb: int = 20

    # upload (drop zone) and the add-a-page form
    uploading: bool = False
    upload_percent: int = 0
    saving_files: bool = False
    adding_url: bool = False
    polling: bool = False

    # Google Drive
    drive_enabled: bool = False
    drive_connections: list[dict[str, Any]] = rx.field(default_factory=list)
    connecting_drive: bool = False
    syncing_id: str = ""

    # chunk preview
    preview_open: bool = False
    preview_loading: bool = False
    preview_doc: dict[str, Any] = rx.field(default_factory=dict)
    preview_chunks: list[dict[str, Any]] = rx.field(default_factory=list)
    preview_total: int = 0

    # search tester
    agents: list[dict[str, str]] = rx.field(default_factory=list)
    searching: bool = False
    searched: bool = False
    search_query: str = ""
    search_agent: str = ""
    search_collection: str = ""
    search_hits: list[dict[str, Any]] = rx.field(default_factory=list)
    search_learned: dict[str, Any] = rx.field(default_factory=dict)

    # learned answers
    learned: list[dict[str, Any]] = rx.field(default_factory=list)
    learned_filter: str = "all"
    editing_open: bool = False
    editing_id: str = ""
    editing_question: str = ""
    editing_answer: str = ""
    saving_learned: bool = False

    # one confirmation dialog for every destructive action
    confirm_open: bool = False
    confirm_kind: str = ""
    confirm_id: str = ""
    confirm_title: str = ""
    confirm_text: str = ""

    @rx.var
    def has_pending(self) -> bool:
        return _pending(self.documents)

    @rx.var
    def pending_learned(self) -> int:
        return sum(1 for r in self.learned if r["status"] == "pending")

    @rx.var
    def shown_learned(self) -> list[dict[str, Any]]:
        if self.learned_filter == "all":
            return self.learned
        return [r for r in self.learned if r["status"] == self.learned_filter]

    @rx.var
    def default_agent(self) -> str:
        return self.agents[0]["id"] if self.agents else ""

    # --- loading ---------------------------------------------------------------------------

    @rx.event
    @service_call(busy="loading")
    async def load(self):
        self.max_mb = max(1, get_settings().knowledge_max_bytes // 1_000_000)
        self.documents = await self._run(kb.list_documents)
        drive_state = await self._run(kb.drive_status)
        self.drive_enabled = drive_state["enabled"]
        self.drive_connections = drive_state["connections"]
        self.learned = await self._run(kb.list_learned)
        self.agents = await self._run(kb.list_agents)
        params = self.router.url.query_parameters
        message = await self._run(kb.connect_error_message, params.get("erro", ""))
        events: list = []
        if message:
            events.append(rx.toast.error(message, close_button=True))
        elif params.get("drive") == "conectado":
            events.append(rx.toast.success("Pasta do Google Drive conectada. A primeira sincronização já começou."))
        if self.has_pending:
            events.append(KnowledgeState.poll_documents)
        return events

    async def _refresh_documents(self) -> None:
        self.documents = await self._run(kb.list_documents)

    @rx.event(background=True)
    async def poll_documents(self):
        """Refresh the list while documents are queued or processing (ingestion runs in the job queue)."""

        async def refresh():
            docs = await self._run(kb.list_documents)
            return docs, (await self._run(kb.drive_status) if self.drive_connections else None)

        def apply(data) -> bool:
            docs, drive_state = data
            self.documents = docs
            if drive_state is not None:
                self.drive_connections = drive_state["connections"]
            return _pending(docs) or any(c["syncing"] for c in self.drive_connections)

        await self._poll("polling", refresh, apply, seconds=POLL_SECONDS, times=POLL_MAX)

    # --- upload ----------------------------------------------------------------------------

    @rx.event
    def upload_progress(self, progress: dict):
        fraction = float(progress.get("progress") or 0)
        self.uploading = fraction < 1
        self.upload_percent = min(100, round(fraction * 100))

    @rx.event
    @service_call(busy="saving_files")
    async def handle_upload(self, files: list[rx.UploadFile]):
        self.uploading, self.upload_percent = False, 100
        yield
        payload = [(f.name or "arquivo", await f.read()) for f in files]
        results = await self._run(kb.upload_documents, payload)
        await self._refresh_documents()
        yield rx.clear_selected_files(UPLOAD_ID)
        ok = [r for r in results if r["ok"]]
        if ok:
            n = len(ok)
            yield rx.toast.success(
                f"{n} arquivo enviado. Processando…" if n == 1 else f"{n} arquivos enviados. Processando…"
            )
        for r in results:
            if not r["ok"]:
                yield rx.toast.error(f"{r['filename']}: {r['error']}", close_button=True)
        yield KnowledgeState.poll_documents

    @rx.event
    @service_call(busy="adding_url")
    async def add_url(self, form: dict):
        yield
        doc = await self._run(kb.add_url, form.get("url", ""))
        await self._refresh_documents()
        yield rx.set_value("knowledge-url-input", "")
        yield rx.toast.success("Página adicionada. Lendo o conteúdo…" if doc["created"] else "Página atualizada.")
        yield KnowledgeState.poll_documents

    @rx.event
    @service_call
    async def reprocess(self, document_id: str):
        await self._run(kb.reprocess_document, document_id)
        await self._refresh_documents()
        return [rx.toast.success("Processando o documento de novo."), KnowledgeState.poll_documents]

    # --- chunk preview ---------------------------------------------------------------------

    def _close_preview(self, exc: Exception) -> None:
        self.preview_open = False

    @rx.event
    @service_call(busy="preview_loading", on_error=_close_preview)
    async def open_preview(self, document_id: str):
        self.preview_open = True
        self.preview_chunks, self.preview_doc = [], next((d for d in self.documents if d["id"] == document_id), {})
        yield
        data = await self._run(kb.chunk_preview, document_id, kb.PREVIEW_LIMIT)
        self.preview_doc, self.preview_chunks, self.preview_total = data["document"], data["chunks"], data["total"]

    @rx.event
    def set_preview_open(self, value: bool):
        self.preview_open = value

    # --- search tester ---------------------------------------------------------------------

    @rx.event
    @service_call(busy="searching")
    async def run_search(self, form: dict):
        yield
        result = await self._run(kb.search_test, form.get("query", ""), form.get("agent_id") or None)
        self.searched = True
        self.search_query = result["query"]
        self.search_agent = result["agent"]
        self.search_collection = result["collection"]
        self.search_hits = result["hits"]
        self.search_learned = result["learned"] or {}

    # --- Google Drive ----------------------------------------------------------------------

    def _stop_connecting(self, exc: Exception) -> None:
        self.connecting_drive = False

    @rx.event
    @service_call(on_error=_stop_connecting)
    async def connect_drive(self, form: dict):
        self.connecting_drive = True  # until the page leaves for Google's consent screen
        yield
        url = await self._run(kb.connect_drive_folder, form.get("folder", ""))
        # A full navigation: the OAuth flow is served by the API, not by a panel page.
        yield rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    @service_call(busy="syncing_id", busy_with="connection_id")
    async def sync_drive(self, connection_id: str):
        yield
        await self._run(kb.sync_drive, connection_id)
        self.drive_connections = (await self._run(kb.drive_status))["connections"]
        yield rx.toast.success("Sincronização pedida. Os arquivos aparecem na lista assim que forem lidos.")
        yield KnowledgeState.poll_documents

    # --- learned answers -------------------------------------------------------------------

    @rx.event
    def set_learned_filter(self, value: str | list[str]):
        self.learned_filter = value if isinstance(value, str) else (value[0] if value else "all")

    async def _refresh_learned(self) -> None:
        self.learned = await self._run(kb.list_learned)
        self.documents = await self._run(kb.list_documents)

    @rx.event
    @service_call
    async def approve_learned(self, learned_id: str):
        await self._run(kb.approve_learned, learned_id)
        await self._refresh_learned()
        return [rx.toast.success("Resposta aprovada: o agente já pode usá-la."), KnowledgeState.poll_documents]

    @rx.event
    @service_call
    async def reject_learned(self, learned_id: str):
        await self._run(kb.reject_learned, learned_id)
        await self._refresh_learned()
        return rx.toast.success("Resposta rejeitada: o agente não vai usá-la.")

    @rx.event
    def start_edit(self, row: dict):
        self.editing_id = row["id"]
        self.editing_question = row["question"]
        self.editing_answer = row["answer"]
        self.editing_open = True

    @rx.event
    def set_editing_open(self, value: bool):
        self.editing_open = value

    @rx.event
    @service_call(busy="saving_learned")
    async def save_learned(self, form: dict):
        yield
        await self._run(kb.edit_learned, self.editing_id, form.get("question", ""), form.get("answer", ""))
        await self._refresh_learned()
        self.editing_open = False
        yield rx.toast.success("Resposta salva e aprovada.")
        yield KnowledgeState.poll_documents

    # --- confirmations ---------------------------------------------------------------------

    @rx.event
    def ask_delete_document(self, doc: dict):
        self._ask(
            "document", doc["id"], "Excluir documento?", f"“{doc['name']}” sai da base e o agente deixa de usá-lo."
        )

    @rx.event
    def ask_delete_learned(self, row: dict):
        self._ask("learned", row["id"], "Excluir resposta aprendida?", f"“{row['question']}” deixa de ser respondida.")

    @rx.event
    def ask_disconnect(self, conn: dict):
        self._ask(
            "drive",
            conn["id"],
            "Desconectar pasta?",
            f"Os documentos que vieram de “{conn['folder_name']}” saem da base de conhecimento.",
        )

    def _ask(self, kind: str, target: str, title: str, text: str) -> None:
        self.confirm_kind, self.confirm_id, self.confirm_title, self.confirm_text = kind, target, title, text
        self.confirm_open = True

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = value

    @rx.event
    @service_call
    async def confirm(self):
        kind, target = self.confirm_kind, self.confirm_id
        self.confirm_open = False
        if kind == "document":
            await self._run(kb.delete_document, target)
            message = "Documento excluído."
        elif kind == "learned":
            await self._run(kb.delete_learned, target)
            self.learned = await self._run(kb.list_learned)
            message = "Resposta excluída."
        elif kind == "drive":
            removed = await self._run(kb.disconnect_drive, target)
            self.drive_connections = (await self._run(kb.drive_status))["connections"]
            message = f"Pasta desconectada ({removed} documento(s) removido(s))."
        else:
            return None
        await self._refresh_documents()
        return rx.toast.success(message)
