"""Which Drive files become knowledge documents, and under what name: Google editors files are
exported (Docs and Slides as text, Sheets as CSV), other files are downloaded only when the
loaders read their type, everything else is skipped with a reason the owner can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
GOOGLE_APPS = "application/vnd.google-apps."
# Google editors files: (export MIME type, extension of the stored file).
EXPORTS = {
    "application/vnd.google-apps.document": ("text/plain", ".txt"),
    "application/vnd.google-apps.spreadsheet": ("text/csv", ".csv"),
    "application/vnd.google-apps.presentation": ("text/plain", ".txt"),
}
# Binary files the loaders read, by MIME type (-> extension) and by extension.
DOWNLOADABLE = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/html": ".html",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
EXTENSIONS = {".pdf", ".docx", ".xlsx", ".csv", ".txt", ".md", ".markdown", ".html", ".htm", ".png", ".jpg", ".jpeg"}
ACCEPTED_HINT = (
    "Formatos aceitos: PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML, imagens PNG/JPG e "
    "Documentos, Planilhas e Apresentações Google."
)


@dataclass(frozen=True)
class DriveFile:
    id: str
    name: str
    mime_type: str
    modified_time: datetime | None
    size: int | None = None
    md5: str | None = None
    path: str = ""  # sub-folder path below the connected folder ("" at the top)

    @property
    def display_name(self) -> str:
        return f"{self.path}/{self.name}" if self.path else self.name


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time as Drive writes it (``modifiedTime``), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def unsupported_reason(f: DriveFile) -> str | None:
    """Why the file is not imported, or None when it is."""
    if f.mime_type in EXPORTS:
        return None
    if f.mime_type == SHORTCUT:
        return "Atalhos não são sincronizados: coloque o arquivo original (ou uma cópia) na pasta."
    if f.mime_type.startswith(GOOGLE_APPS):
        return "Este tipo de arquivo do Google (Formulários, Desenhos, Sites...) não pode ser importado."
    if f.mime_type in DOWNLOADABLE or _extension(f.name) in EXTENSIONS:
        return None
    label = _extension(f.name) or f.mime_type or "formato desconhecido"
    return f"Tipo de arquivo não suportado ({label}). {ACCEPTED_HINT}"


def stored_filename(f: DriveFile) -> str:
    if f.mime_type in EXPORTS:
        return f.name + EXPORTS[f.mime_type][1]
    if _extension(f.name) in EXTENSIONS:
        return f.name
    return f.name + DOWNLOADABLE.get(f.mime_type, "")


def title(f: DriveFile) -> str:
    """The document's title: the Drive name, without an extension the loaders know."""
    if f.mime_type not in EXPORTS and _extension(f.name) in EXTENSIONS:
        return f.name.rsplit(".", 1)[0]
    return f.name
