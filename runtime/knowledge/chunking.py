"""Sections -> chunks of about KNOWLEDGE_CHUNK_SIZE characters, each keeping its heading and page.
Table rows (CSV/XLSX) are packed whole: a price never loses its product name to a split."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .types import ExtractedDocument, Section


@dataclass(frozen=True)
class ChunkDraft:
    content: str
    heading: str | None
    page: int | None


def chunk_document(doc: ExtractedDocument, size: int, overlap: int) -> list[ChunkDraft]:
    if doc.tabular:
        return _pack_rows(doc.sections, size)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=min(overlap, size // 2),
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )
    chunks: list[ChunkDraft] = []
    for section in _merge_small(doc.sections, size):
        for piece in splitter.split_text(section.text):
            if piece.strip():
                chunks.append(ChunkDraft(piece.strip(), section.heading, section.page))
    return chunks


def _merge_small(sections: list[Section], size: int) -> list[Section]:
    """Join consecutive short sections under the same heading and page (one paragraph per
    chunk would make tiny chunks that rank poorly and cost more embeddings)."""
    merged: list[Section] = []
    for s in sections:
        if not s.text.strip():
            continue
        last = merged[-1] if merged else None
        if last and last.heading == s.heading and last.page == s.page and len(last.text) + len(s.text) < size:
            merged[-1] = Section(last.text + "\n\n" + s.text, last.page, last.heading)
        else:
            merged.append(s)
    return merged


def _pack_rows(rows: list[Section], size: int) -> list[ChunkDraft]:
    chunks: list[ChunkDraft] = []
    current: list[str] = []
    heading = page = None
    for row in rows:
        text = row.text.strip()
        if not text:
            continue
        if current and (row.heading != heading or sum(len(t) + 1 for t in current) + len(text) > size):
            chunks.append(ChunkDraft("\n".join(current), heading, page))
            current = []
        if not current:
            heading, page = row.heading, row.page
        current.append(text)
    if current:
        chunks.append(ChunkDraft("\n".join(current), heading, page))
    return chunks
