"""Hostile files built on the fly (nothing committed): small on disk, huge or slow once read.

Each builder returns the bytes a lead or an owner could send; the tests assert that reading
them fails alone, within seconds, with a reason in pt-BR, and that the worker stays healthy.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

_LINE = b"BT /F1 12 Tf 72 700 Td (Tabela de precos repetida) Tj ET\n"


def _pdf_with_page(content: bytes, pages: int = 1, tounicode: bytes | None = None) -> bytes:
    """A PDF whose page tree lists the same page object `pages` times (pypdf writes it as is)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    if tounicode is not None:
        cmap = DecodedStreamObject()
        cmap.set_data(tounicode)
        font[NameObject("/ToUnicode")] = writer._add_object(cmap)
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode(level=9))
    tree = writer._root_object["/Pages"]
    kids = tree["/Kids"]
    for _ in range(pages - 1):
        kids.append(kids[0])
    tree[NameObject("/Count")] = NumberObject(pages)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_repeating_one_page(pages: int = 500, content_bytes: int = 10_000_000) -> bytes:
    """~30 KB: one page with a 10 MB content stream, listed `pages` times in the page tree."""
    return _pdf_with_page(_LINE * (content_bytes // len(_LINE)), pages)


def pdf_slow_page(content_bytes: int = 10_000_000) -> bytes:
    """One page whose 10 MB content stream takes pypdf tens of seconds to parse."""
    return _pdf_with_page(_LINE * (content_bytes // len(_LINE)), 1)


def pdf_with_text(content: bytes, tounicode: bytes | None = None) -> bytes:
    return _pdf_with_page(content, 1, tounicode)


def _docx_base() -> dict[str, bytes]:
    from docx import Document

    buffer = io.BytesIO()
    Document().save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


def docx_with_body(body: bytes) -> bytes:
    """A real (python-docx template) DOCX whose document body is `body` (raw WordprocessingML)."""
    parts = _docx_base()
    document = parts["word/document.xml"]
    start = document.index(b"<w:body>") + len(b"<w:body>")
    parts["word/document.xml"] = document[:start] + body + document[start:]
    return _zip(parts)


def docx_inflating(xml_bytes: int = 10_000_000) -> bytes:
    """~60 KB: a DOCX whose document.xml inflates to 10 MB of paragraphs."""
    unit = "<w:p><w:r><w:t>Preço</w:t></w:r></w:p>".encode()
    return docx_with_body(unit * (xml_bytes // len(unit)))


def xlsx_with_huge_dimension(rows: int = 20_000) -> bytes:
    """A ~220 KB price list whose sheet claims the whole grid (A1:XFD1048576): a reader that trusts
    the declared dimension pads each of its rows to 16,384 cells (330 million cells here)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Precos"
    sheet.append(["Produto", "Preço"])
    for i in range(rows):
        sheet.append([f"Limpeza {i}", 180])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', sheet_xml)
    return _zip(parts)


def png(width: int, height: int) -> bytes:
    """A white image with a black bar: compresses to a few KB whatever its size."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle((10, 10, min(width - 1, 400), min(height - 1, 60)), fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=9)
    return out.getvalue()


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def long_opus(folder: Path, hours: int = 7) -> bytes:
    """A ~15 MB OGG/Opus voice note of `hours` hours (6 kbit/s): one minute encoded, then looped by
    remuxing (no re-encoding): 1-2 s on a 2-core machine."""
    minute, out = folder / "minute.ogg", folder / "long.ogg"
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=60", "-c:a", "libopus", "-b:a", "6k", "-ac", "1",
        "-ar", "48000", "-application", "voip", "-frame_duration", "60", str(minute),
    )  # fmt: skip
    _ffmpeg("-stream_loop", str(hours * 60 - 1), "-i", str(minute), "-c", "copy", str(out))
    return out.read_bytes()


def mp3_that_lies_about_its_length(folder: Path, minutes: int = 60) -> bytes:
    """An MP3 with no Xing header whose first frames are at 320 kbit/s and the rest at 32 kbit/s:
    ffprobe estimates its duration from the first bitrate (about a tenth of the truth)."""
    common = ["-ar", "32000", "-ac", "1", "-write_xing", "0", "-id3v2_version", "0"]
    high, low = folder / "high.mp3", folder / "low.mp3"
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "libmp3lame", "-b:a", "320k", *common, str(high)
    )
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=60", "-c:a", "libmp3lame", "-b:a", "32k", *common, str(low)
    )
    return high.read_bytes() + low.read_bytes() * minutes
