"""Where media files live: a local folder by default; a bucket in production behind the same two
methods (an implementation for Google Cloud Storage plugs in here)."""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import Path
from typing import Protocol

from runtime.config import get_settings


class StorageError(Exception):
    pass


class MediaStorage(Protocol):
    def put(self, workspace_id: uuid.UUID, data: bytes, mime_type: str | None, filename: str | None = None) -> str:
        """Store the bytes; returns the key to get them back."""
        ...

    def get(self, key: str) -> bytes: ...


class LocalStorage:
    """Files under MEDIA_DIR/<workspace_id>/<uuid><ext>; keys are the relative paths."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, workspace_id: uuid.UUID, data: bytes, mime_type: str | None, filename: str | None = None) -> str:
        ext = (
            Path(filename).suffix
            if filename and Path(filename).suffix
            else (mimetypes.guess_extension((mime_type or "").split(";")[0].strip()) or ".bin")
        )
        key = f"{workspace_id}/{uuid.uuid4().hex}{ext}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key

    def get(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError("invalid media key")
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"media not found: {key}") from exc


def get_storage() -> MediaStorage:
    s = get_settings()
    return LocalStorage(Path(s.media_dir) if s.media_dir else Path(s.data_dir) / "media")
