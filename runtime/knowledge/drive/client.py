"""The few Drive v3 calls a sync and the connect flow need (folder metadata, recursive listing,
export or download), with Drive's error reasons turned into pt-BR ``DriveError``s so callers
decide by type (folder gone, grant gone, this one file refused) and never parse HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from runtime.config import get_settings
from runtime.pgtext import pg_json, pg_text

from .errors import SCOPE_MESSAGE, DriveAuthError, DriveError, DriveNotAFolder, DriveNotFound
from .files import EXPORTS, FOLDER, DriveFile, parse_time, stored_filename
from .transport import USER_AGENT, send

PAGE_SIZE = 200  # files.list pageSize (Drive allows up to 1000; it may return fewer)
MAX_DEPTH = 8  # sub-folder levels walked below the connected folder


def api_url() -> str:
    return get_settings().google_drive_api_url.rstrip("/")


def _drive_error(response: httpx.Response, what: str) -> DriveError:
    try:
        err = response.json().get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    errors = err.get("errors") if isinstance(err, dict) else None
    reasons = {e.get("reason") for e in errors or [] if isinstance(e, dict)}
    code = response.status_code
    if "insufficientPermissions" in reasons:  # the token lacks the Drive scope
        return DriveAuthError(SCOPE_MESSAGE)
    if code == 404 or (what == "pasta" and "insufficientFilePermissions" in reasons):
        return DriveNotFound(f"{what}: não encontrado no Google Drive.")
    if "exportSizeLimitExceeded" in reasons:
        return DriveError("O documento é grande demais para exportar do Google (limite de 10 MB).")
    if reasons & {"cannotDownloadFile", "cannotDownloadAbusiveFile", "fileNotDownloadable"}:
        return DriveError("O Google Drive não permite baixar este arquivo (o dono bloqueou o download).")
    if code in (401, 403):
        return DriveError(f"O Google Drive recusou o acesso a este arquivo (HTTP {code}).")
    return DriveError(f"O Google Drive respondeu com erro (HTTP {code}).")


class DriveApi:
    """The few Drive v3 calls a sync needs, with the bearer token refreshed once on a 401."""

    def __init__(
        self,
        http: httpx.Client,
        access_token: str,
        refresh: Callable[[], str] | None = None,
        base_url: str | None = None,
    ) -> None:
        self.http = http
        self.token = access_token
        self._refresh = refresh
        self.base = (base_url or api_url()) + "/drive/v3"

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        for first in (True, False):
            headers = {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}
            response = send(self.http, "GET", self.base + path, params=params, headers=headers)
            if response.status_code == 401 and first and self._refresh is not None:
                self.token = self._refresh()
                continue
            return response
        raise AssertionError("unreachable")

    def get_folder(self, folder_id: str) -> dict[str, Any]:
        """The folder's metadata; DriveNotFound when missing or trashed, DriveError when not a folder.
        Names are whatever the owner typed in Drive: cleaned of what PostgreSQL refuses (NUL)."""
        response = self._get(f"/files/{folder_id}", {"fields": "id,name,mimeType,trashed", "supportsAllDrives": "true"})
        if response.status_code != 200:
            raise _drive_error(response, "pasta")
        meta = pg_json(response.json())
        if meta.get("trashed"):
            raise DriveNotFound("pasta: está na lixeira.")
        if meta.get("mimeType") != FOLDER:
            raise DriveNotAFolder("O link informado é de um arquivo, não de uma pasta.")
        return meta

    def list_children(self, folder_id: str) -> Iterator[dict[str, Any]]:
        """Every non-trashed item directly in the folder, page after page."""
        escaped = folder_id.replace("\\", "\\\\").replace("'", "\\'")
        params: dict[str, Any] = {
            "q": f"'{escaped}' in parents and trashed=false",
            "fields": "nextPageToken,files(id,name,mimeType,modifiedTime,size,md5Checksum)",
            "pageSize": PAGE_SIZE,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        while True:
            response = self._get("/files", params)
            if response.status_code != 200:
                raise _drive_error(response, "pasta")
            body = response.json()
            yield from body.get("files") or []
            token = body.get("nextPageToken")
            if not token:
                return
            params = {**params, "pageToken": token}

    def walk(self, folder_id: str) -> tuple[list[DriveFile], list[tuple[str, str]]]:
        """Files below the folder (sub-folders included) and the items skipped while walking."""
        files: list[DriveFile] = []
        skipped: list[tuple[str, str]] = []
        seen = {folder_id}
        pending: list[tuple[str, str, int]] = [(folder_id, "", 0)]
        while pending:
            current, path, depth = pending.pop(0)
            for item in self.list_children(current):
                mime = item.get("mimeType") or ""
                name = pg_text(item.get("name") or item.get("id") or "sem nome").replace("/", "-")
                shown = f"{path}/{name}" if path else name
                if mime == FOLDER:
                    if item.get("id") in seen:
                        continue
                    if depth + 1 > MAX_DEPTH:
                        skipped.append((shown, f"Subpasta com mais de {MAX_DEPTH} níveis: não foi sincronizada."))
                        continue
                    seen.add(item["id"])
                    pending.append((item["id"], shown, depth + 1))
                    continue
                size = item.get("size")
                files.append(
                    DriveFile(
                        id=item["id"],
                        name=name,
                        mime_type=mime,
                        modified_time=parse_time(item.get("modifiedTime")),
                        size=int(size) if size and str(size).isdigit() else None,
                        md5=item.get("md5Checksum"),
                        path=path,
                    )
                )
        return files, skipped

    def fetch(self, f: DriveFile, max_bytes: int) -> tuple[bytes, str, str]:
        """(bytes, filename to store, MIME type): Google editors files exported, others downloaded."""
        if f.mime_type in EXPORTS:
            export_mime, ext = EXPORTS[f.mime_type]
            response = self._get(f"/files/{f.id}/export", {"mimeType": export_mime})
            filename, mime = f.name + ext, export_mime
        else:
            response = self._get(f"/files/{f.id}", {"alt": "media", "supportsAllDrives": "true"})
            filename, mime = stored_filename(f), f.mime_type
        if response.status_code != 200:
            raise _drive_error(response, "arquivo")
        data = response.content
        if len(data) > max_bytes:
            raise DriveError(f"Arquivo maior que o limite de {max_bytes // 1_000_000} MB.")
        return data, filename, mime
