"""Shapes shared by loaders, chunking and storage."""

from __future__ import annotations

from dataclasses import dataclass, field


class ExtractionError(Exception):
    """The document cannot be read; the message is a clear reason in pt-BR, shown to the owner."""


@dataclass(frozen=True)
class Section:
    """A run of text with where it came from: its page (PDF) and the heading it sits under."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class ExtractedDocument:
    title: str
    sections: list[Section] = field(default_factory=list)
    pages: int = 1  # PDF pages; 1 for single-page formats; sheets/rows count as one page each 50 rows
    tabular: bool = False  # CSV/XLSX: sections are rows that must not be split mid-row
