"""How much one document may cost to read: the caps that make a document bomb (a tiny file that
expands to pages, characters or pixels without end) fail alone with a clear reason. Defaults and
overrides come from settings (EXTRACT_*); one instance travels with each extraction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A DOCX/XLSX part that inflates more than this many times its compressed size is a zip bomb:
# Office XML compresses about 5-20 times (Apache POI refuses past 100 as well).
MAX_ZIP_RATIO = 100
ZIP_RATIO_FLOOR = 1_000_000  # parts smaller than this (inflated) are never suspicious


@dataclass(frozen=True)
class ExtractionLimits:
    timeout_seconds: float = 60.0  # wall clock of one extraction (its child process is killed)
    max_memory_mb: int = 1024  # what one extraction may allocate beyond its libraries
    max_pages: int = 300
    max_chars: int = 5_000_000
    max_unzipped_bytes: int = 50_000_000
    max_image_pixels: int = 60_000_000
    max_html_bytes: int = 5_000_000

    @classmethod
    def from_settings(cls, settings: Any | None = None) -> ExtractionLimits:
        if settings is None:
            from runtime.config import get_settings

            settings = get_settings()
        return cls(
            timeout_seconds=settings.extract_timeout_seconds,
            max_memory_mb=settings.extract_max_memory_mb,
            max_pages=settings.extract_max_pages,
            max_chars=settings.extract_max_chars,
            max_unzipped_bytes=settings.extract_max_unzipped_bytes,
            max_image_pixels=settings.extract_max_image_pixels,
            max_html_bytes=settings.extract_max_html_bytes,
        )
