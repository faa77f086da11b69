"""Turn an uploaded file (or a fetched web page) into an ExtractedDocument.

`extract()` sniffs the content first (PDF, ZIP-based DOCX/XLSX, images), then trusts the
extension and the MIME type. Every failure is an `ExtractionError` whose message is a
reason in pt-BR that the owner can act on; no library exception escapes unwrapped. The caps
of `ExtractionLimits` (pages, characters, inflated bytes, pixels, HTML size) are checked while
reading, so a document bomb stops early; `runtime.knowledge.isolated` runs `extract()` in a
child process with a wall clock and a memory cap for files from outside.
`fetch_url()` downloads a page or file over http(s) through the egress guard (runtime.egress:
internal addresses refused at every redirect, a size limit, one deadline).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import mimetypes
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from runtime import egress
from runtime.knowledge.limits import MAX_ZIP_RATIO, ZIP_RATIO_FLOOR, ExtractionLimits
from runtime.knowledge.types import ExtractedDocument, ExtractionError, Section
from runtime.pgtext import pg_text

MAX_BYTES = 20_000_000
OCR_TIMEOUT_S = 60.0
ROWS_PER_PAGE = 50  # tabular documents count one "page" per 50 rows
OCR_MAX_SIDE = 3500  # larger images are scaled down before OCR (time stays bounded)
OCR_MIN_WIDTH = 1200  # narrower images are scaled up (tesseract likes ~30 px letters)
MAX_REDIRECTS = 5
USER_AGENT = "PilotoDeVendas/1.0 (+knowledge-base importer)"

SUPPORTED_HINT = "Envie PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML ou imagem (PNG/JPG)."

_DOCX = "docx"
_XLSX = "xlsx"
_PDF = "pdf"
_CSV = "csv"
_TXT = "txt"
_MD = "md"
_HTML = "html"
_IMAGE = "image"

_EXTENSIONS = {
    ".pdf": _PDF,
    ".docx": _DOCX,
    ".xlsx": _XLSX,
    ".xlsm": _XLSX,
    ".csv": _CSV,
    ".tsv": _CSV,
    ".txt": _TXT,
    ".text": _TXT,
    ".md": _MD,
    ".markdown": _MD,
    ".html": _HTML,
    ".htm": _HTML,
    ".xhtml": _HTML,
    ".png": _IMAGE,
    ".jpg": _IMAGE,
    ".jpeg": _IMAGE,
    ".webp": _IMAGE,
    ".gif": _IMAGE,
    ".bmp": _IMAGE,
    ".tif": _IMAGE,
    ".tiff": _IMAGE,
}

_MIME_TYPES = {
    "application/pdf": _PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _XLSX,
    "text/csv": _CSV,
    "text/tab-separated-values": _CSV,
    "text/plain": _TXT,
    "text/markdown": _MD,
    "text/x-markdown": _MD,
    "text/html": _HTML,
    "application/xhtml+xml": _HTML,
}

_LEGACY_OFFICE = {
    ".doc": "Documento do Word antigo (.doc) não é suportado: salve como .docx ou PDF e envie de novo.",
    ".xls": "Planilha do Excel antiga (.xls) não é suportada: salve como .xlsx ou CSV e envie de novo.",
    ".ppt": "Apresentação do PowerPoint (.ppt) não é suportada: exporte como PDF e envie de novo.",
}

_KIND_NAMES = {
    _PDF: "PDF",
    _DOCX: "DOCX",
    _XLSX: "XLSX",
    _CSV: "CSV",
    _TXT: "de texto",
    _MD: "Markdown",
    _HTML: "HTML",
    _IMAGE: "de imagem",
}


# ---------------------------------------------------------------------------------------------
# Text cleaning


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Line-end hyphens in PDFs are mostly word breaks ("procedi-\nmento"). Kept: a compound split at its
# own hyphen, which pt-BR typography repeats on the next line ("guarda-\n-chuva"), and -lo/-la
# after an accented vowel ("fazê-\nlo"), which no syllable break produces.
_HYPHEN_REPEATED = re.compile(r"([^\W\d_])-\n[ \t]*-([^\W\d_])")
_HYPHEN_CLITIC = re.compile(r"([áéêíóôú])-\n[ \t]*(l[oa]s?)\b")
_HYPHEN_BREAK = re.compile(r"([^\W\d_])-\n[ \t]*([^\W\d_A-ZÀ-Þ])")


def clean_text(text: str) -> str:
    """Normalize extracted text: NFC accents, no control chars (nor lone surrogates, which
    PostgreSQL cannot store), joined hyphenated line breaks, single spaces, no trailing blanks,
    at most one empty line between paragraphs."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", pg_text(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\u00ad", "")  # soft hyphen
    text = text.replace("\f", "\n\n").replace("\v", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    # "procedi-\nmento" -> "procedimento"; "guarda-\n-chuva" -> "guarda-chuva"; "fazê-\nlo" -> "fazê-lo";
    # a break before a capital or a digit ("Guarda-\nChuva", "10-\n20") is left alone.
    text = _HYPHEN_REPEATED.sub(r"\1-\2", text)
    text = _HYPHEN_CLITIC.sub(r"\1-\2", text)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------
# Entry point


def extract(
    data: bytes,
    filename: str,
    mime_type: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    ocr_timeout: float = OCR_TIMEOUT_S,
    limits: ExtractionLimits | None = None,
) -> ExtractedDocument:
    """Read a PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML or image (OCR) into sections, within
    `limits` (None: the configured EXTRACT_* settings)."""
    if not data:
        raise ExtractionError("Arquivo vazio.")
    if len(data) > max_bytes:
        raise ExtractionError(f"Arquivo maior que o limite de {_format_size(max_bytes)}.")
    limits = limits or ExtractionLimits.from_settings()
    name = pg_text(_basename(filename))
    kind = _detect_kind(data, name, mime_type)
    budget = _TextBudget(limits.max_chars)
    handlers = {
        _PDF: lambda: _extract_pdf(data, name, limits, budget),
        _DOCX: lambda: _extract_docx(_checked_zip(data, kind, limits), name, budget),
        _XLSX: lambda: _extract_xlsx(_checked_zip(data, kind, limits), name, budget),
        _CSV: lambda: _extract_csv(data, name, budget),
        _TXT: lambda: _extract_txt(data, name, budget),
        _MD: lambda: _extract_markdown(data, name, budget),
        _HTML: lambda: _extract_html(data, name, limits, budget),
        _IMAGE: lambda: _extract_image(data, name, ocr_timeout, limits),
    }
    try:
        doc = handlers[kind]()
    except (ExtractionError, MemoryError):  # MemoryError: the isolated runner reports it as such
        raise
    except ImportError as exc:  # a missing dependency is the server's fault, not the file's
        raise ExtractionError(f"Leitura de arquivos {_KIND_NAMES[kind]} indisponível neste servidor.") from exc
    except Exception as exc:  # a library failed on malformed input: say so, never leak the exception
        raise ExtractionError(
            f"O arquivo {_KIND_NAMES[kind]} está corrompido ou em formato inválido e não pôde ser lido."
        ) from exc
    if not doc.sections:
        raise ExtractionError(_no_text_message(kind))
    return ExtractedDocument(title=pg_text(doc.title), sections=doc.sections, pages=doc.pages, tabular=doc.tabular)


class _TextBudget:
    """Characters a document may still yield: spent section by section, so a bomb is stopped while
    it is read instead of after it has filled the memory."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.left = max_chars

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ExtractionError(
                f"O arquivo tem mais de {_thousands(self.max_chars)} caracteres de texto, o limite de leitura: "
                "divida-o em arquivos menores e envie de novo."
            )

    def section(self, section: Section) -> Section:
        self.spend(len(section.text))
        return section


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _no_text_message(kind: str) -> str:
    if kind == _PDF:
        return (
            "O PDF não tem texto extraível (parece ser digitalizado ou só imagens). "
            "Envie uma versão com texto selecionável ou fotos das páginas."
        )
    if kind == _IMAGE:
        return "Nenhum texto encontrado na imagem."
    if kind in (_CSV, _XLSX):
        return "A planilha não tem linhas de dados para importar."
    return "Nenhum texto encontrado no arquivo."


def _format_size(n: int) -> str:
    if n >= 1_000_000:
        return f"{round(n / 1_000_000, 1):g} MB".replace(".", ",")
    if n >= 1000:
        return f"{round(n / 1000, 1):g} KB".replace(".", ",")
    return f"{n} bytes"


def _basename(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or "documento"


def _stem(name: str) -> str:
    stem, dot, _ext = name.rpartition(".")
    return (stem if dot and stem else name).strip() or "documento"


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


# ---------------------------------------------------------------------------------------------
# Type detection


def _detect_kind(data: bytes, name: str, mime_type: str | None) -> str:
    ext = _extension(name)
    ext_kind = _EXTENSIONS.get(ext)
    head = data[:1024]

    if b"%PDF-" in head:
        return _PDF
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data, ext, ext_kind)
    if _is_image(data):
        return _IMAGE
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: .doc/.xls/.ppt (or an encrypted docx/xlsx)
        if ext in (".docx", ".xlsx"):
            raise ExtractionError(
                f"O arquivo {ext} está protegido por senha ou é de uma versão antiga do Office: "
                "remova a senha ou salve de novo e envie."
            )
        raise ExtractionError(
            _LEGACY_OFFICE.get(ext, "Documento antigo do Office não é suportado: salve como .docx, .xlsx ou PDF.")
        )

    # No recognizable binary signature: the name and the declared type decide.
    mime = (mime_type or "").split(";")[0].strip().lower()
    claimed = ext_kind or _MIME_TYPES.get(mime) or (_IMAGE if mime.startswith("image/") else None)
    if claimed in (_PDF, _DOCX, _XLSX, _IMAGE):
        what = "uma imagem" if claimed == _IMAGE else f"um {claimed.upper()}"
        raise ExtractionError(f"O arquivo {name} não é {what} válido: está corrompido ou tem a extensão errada.")
    if ext in _LEGACY_OFFICE:
        raise ExtractionError(_LEGACY_OFFICE[ext])
    if ext_kind:
        return ext_kind
    if mime in _MIME_TYPES:
        return _MIME_TYPES[mime]
    if not ext and _looks_textual(data):
        start = _decode_text(data[:2048]).lstrip().lower()
        if start.startswith(("<!doctype html", "<html")):
            return _HTML
        return _TXT
    label = ext or mime or "formato desconhecido"
    raise ExtractionError(f"Tipo de arquivo não suportado ({label}): {name}. {SUPPORTED_HINT}")


def _zip_kind(data: bytes, ext: str, ext_kind: str | None) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = {info.filename for info in zf.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        if ext_kind in (_DOCX, _XLSX):
            raise ExtractionError(f"O arquivo {ext} está corrompido ou incompleto e não pôde ser aberto.") from exc
        raise ExtractionError(f"Arquivo compactado corrompido ou não suportado. {SUPPORTED_HINT}") from exc
    if "word/document.xml" in names:
        kind = _DOCX
    elif "xl/workbook.xml" in names:
        kind = _XLSX
    elif ext_kind in (_DOCX, _XLSX):
        what = "documento do Word" if ext_kind == _DOCX else "planilha do Excel"
        raise ExtractionError(f"O arquivo {ext} está corrompido: não é um {what} válido.")
    else:
        label = ext or "sem extensão"
        raise ExtractionError(f"Tipo de arquivo não suportado: arquivo ZIP ({label}). {SUPPORTED_HINT}")
    return kind


def _checked_zip(data: bytes, kind: str, limits: ExtractionLimits) -> bytes:
    """The DOCX/XLSX bytes once every part has been inflated within the caps: the sizes the zip
    declares first, then the bytes actually inflated (a header can lie), and each part's ratio
    to its compressed size. UTF-8 XML parts holding NUL bytes (which no XML parser accepts, but
    broken exporters write) come back without them."""
    what = _KIND_NAMES[kind]
    cap = limits.max_unzipped_bytes
    too_big = (
        f"O arquivo {what} descompactado passa de {_format_size(cap)}, o limite de leitura: "
        "divida-o em arquivos menores (ou salve como PDF) e envie de novo."
    )
    with_nul: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [info for info in zf.infolist() if not info.is_dir()]
            if sum(info.file_size for info in infos) > cap:
                raise ExtractionError(too_big)
            total = 0
            for info in infos:
                xml, nul, read = info.filename.endswith((".xml", ".rels")), False, 0
                with zf.open(info) as member:
                    while chunk := member.read(1 << 20):
                        if read == 0 and chunk.startswith(_UTF16):
                            xml = False  # UTF-16 XML is full of NUL bytes that are not NUL characters
                        read += len(chunk)
                        total += len(chunk)
                        if total > cap:
                            raise ExtractionError(too_big)
                        if read > ZIP_RATIO_FLOOR and read > MAX_ZIP_RATIO * max(info.compress_size, 1):
                            raise ExtractionError(
                                f"O arquivo {what} descompactado fica mais de {MAX_ZIP_RATIO} vezes maior que o "
                                "original, o que documentos normais não fazem: abra-o no Word ou Excel, salve de "
                                "novo (ou exporte como PDF) e envie."
                            )
                        nul = nul or (xml and b"\x00" in chunk)
                if nul:
                    with_nul.append(info.filename)
            if not with_nul:
                return data
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as fixed:
                for info in infos:
                    body = zf.read(info)
                    fixed.writestr(info, body.replace(b"\x00", b"") if info.filename in with_nul else body)
            return out.getvalue()
    except ExtractionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise ExtractionError(f"O arquivo {what} está corrompido ou incompleto e não pôde ser aberto.") from exc


_UTF16 = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")


def _is_image(data: bytes) -> bool:
    return (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or data.startswith((b"GIF87a", b"GIF89a"))
        or data.startswith((b"II*\x00", b"MM\x00*"))
        or (data.startswith(b"BM") and len(data) > 26 and data[14] in (12, 40, 52, 56, 64, 108, 124))
    )


def _looks_textual(data: bytes) -> bool:
    sample = data[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    text = _decode_text(sample)
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad <= max(2, len(text) // 100)


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ---------------------------------------------------------------------------------------------
# PDF


def _extract_pdf(data: bytes, name: str, limits: ExtractionLimits, budget: _TextBudget) -> ExtractedDocument:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception:
                unlocked = False
            if not unlocked:
                raise ExtractionError(
                    "PDF protegido por senha: salve uma cópia sem senha (ou imprima como PDF) e envie de novo."
                )
        pages = reader.pages
        count = len(pages)
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError("O PDF está corrompido ou incompleto e não pôde ser lido.") from exc
    if count == 0:
        raise ExtractionError("O PDF está corrompido ou não tem páginas.")
    if count > limits.max_pages:
        raise ExtractionError(
            f"O PDF tem {_thousands(count)} páginas, mais que o limite de {_thousands(limits.max_pages)} páginas "
            "por arquivo: divida-o em arquivos menores e envie de novo."
        )

    sections = []
    failed = 0
    for number in range(1, count + 1):
        try:
            raw = pages[number - 1].extract_text() or ""
        except MemoryError:
            raise
        except Exception:
            failed += 1  # one broken page must not lose the rest of the document
            continue
        text = _unwrap_lines(clean_text(raw))
        if text:
            sections.append(budget.section(Section(text=text, page=number)))
    if not sections and failed == count:
        raise ExtractionError("O PDF está corrompido ou incompleto e não pôde ser lido.")

    title = None
    try:
        meta = reader.metadata
        title = meta.title if meta else None
    except Exception:
        title = None
    return ExtractedDocument(title=_title_or_stem(title, name), sections=sections, pages=count)


def _unwrap_lines(text: str) -> str:
    """Rejoin lines that the PDF layout wrapped mid-sentence: a line that does not end a sentence,
    followed by one starting in lowercase ("... a cada seis\nmeses." -> "... a cada seis meses.")."""
    lines: list[str] = []
    for line in text.split("\n"):
        previous = lines[-1] if lines else ""
        if (
            previous
            and line
            and not previous.endswith((".", ":", ";", "!", "?"))
            and (line[0].islower() or previous.endswith("R$"))
        ):
            lines[-1] = f"{previous} {line}"
        else:
            lines.append(line)
    return "\n".join(lines)


def _title_or_stem(title: object, name: str) -> str:
    if isinstance(title, str):
        cleaned = clean_text(title).replace("\n", " ")
        if cleaned and cleaned.lower() not in ("untitled", "sem título", "sem titulo", "documento1", "document1"):
            return cleaned
    return _stem(name)


# ---------------------------------------------------------------------------------------------
# DOCX


_HEADING_STYLE = re.compile(r"^(heading|t[íi]tulo|title|ttulo)\s*\d*$", re.IGNORECASE)


def _extract_docx(data: bytes, name: str, budget: _TextBudget) -> ExtractedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise ExtractionError("O arquivo DOCX está corrompido e não pôde ser aberto.") from exc

    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    heading_styles: dict[str | None, bool] = {}

    def flush() -> None:
        text = clean_text("\n".join(buffer))
        if text:
            sections.append(Section(text=text, heading=heading))
        buffer.clear()

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = clean_text(block.text)
            if not text:
                continue
            budget.spend(len(text))
            if _is_heading(block, heading_styles):
                flush()
                heading = text.replace("\n", " ")
            else:
                buffer.append(text)
        elif isinstance(block, Table):
            lines = _docx_table_lines(block)
            budget.spend(sum(len(line) for line in lines))
            buffer.extend(lines)
    flush()

    try:
        title = document.core_properties.title
    except Exception:
        title = None
    return ExtractedDocument(title=_title_or_stem(title, name), sections=sections, pages=1)


def _is_heading(paragraph, styles: dict[str | None, bool]) -> bool:
    """A heading style (or an outline level) on the paragraph. Decided once per style id: python-docx
    resolves a style by scanning every style, which made a long document take minutes."""
    key = paragraph._p.style
    if key not in styles:
        styles[key] = _is_heading_style(paragraph.style)
    if styles[key]:
        return True
    ppr = paragraph._p.pPr
    return (
        ppr is not None
        and ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") is not None
    )


def _is_heading_style(style) -> bool:
    seen = 0
    while style is not None and seen < 5:  # a custom style based on "Heading 2" is a heading too
        for label in (style.name, getattr(style, "style_id", None)):
            if label and _HEADING_STYLE.match(label.strip()):
                return True
        ppr = style.element.pPr
        if (
            ppr is not None
            and ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") is not None
        ):
            return True
        style = style.base_style
        seen += 1
    return False


def _docx_table_lines(table) -> list[str]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:  # merged cells repeat: keep one
                continue
            previous = cell._tc
            cells.append(clean_text(cell.text).replace("\n", " "))
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    if len(rows) == 1:
        return [" | ".join(c for c in rows[0] if c)]
    header = [h or f"Coluna {i + 1}" for i, h in enumerate(rows[0])]
    return [line for line in (_row_line(header, r) for r in rows[1:]) if line]


def _row_line(header: list[str], values: Iterable[str]) -> str:
    parts = []
    for i, value in enumerate(values):
        if not value:
            continue
        label = header[i] if i < len(header) and header[i] else f"Coluna {i + 1}"
        parts.append(f"{label}: {value}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Tabular: CSV and XLSX


def _extract_csv(data: bytes, name: str, budget: _TextBudget) -> ExtractedDocument:
    text = _decode_text(data).replace("\x00", "")
    lines = text[:200_000].splitlines()[:30]
    delimiter = _sniff_delimiter([line for line in lines if line.strip()])
    csv.field_size_limit(1_000_000)
    rows = (
        [clean_text(c).replace("\n", " ") for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
    )
    try:
        sections = _tabular_sections(rows, None, budget)
    except csv.Error as exc:
        raise ExtractionError("O arquivo CSV está corrompido ou mal formatado.") from exc
    return ExtractedDocument(
        title=_stem(name), sections=sections, pages=max(1, math.ceil(len(sections) / ROWS_PER_PAGE)), tabular=True
    )


def _sniff_delimiter(lines: list[str]) -> str:
    best, best_score = ",", -1.0
    for delimiter in (";", ",", "\t", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        consistency = counts.count(mode) / len(counts)
        score = consistency * 10 + min(mode, 50) / 10
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _tabular_sections(rows: Iterable[list[str]], heading: str | None, budget: _TextBudget) -> list[Section]:
    """One section per data row ("Coluna: valor; ..."), rows read one at a time within the budget."""
    sections = []
    header: list[str] | None = None
    for row in rows:
        if not any(row):
            continue
        if header is None:
            header = [h or f"Coluna {i + 1}" for i, h in enumerate(row)]
            continue
        line = _row_line(header, row)
        if line:
            sections.append(budget.section(Section(text=line, heading=heading)))
    return sections


def _extract_xlsx(data: bytes, name: str, budget: _TextBudget) -> ExtractedDocument:
    import openpyxl

    cells = budget.max_chars  # cells visited, empty ones too: a sheet can be wide without text

    def values(row) -> list[str]:
        nonlocal cells
        cells -= len(row)
        if cells < 0:
            raise ExtractionError(
                f"A planilha tem mais de {_thousands(budget.max_chars)} células para ler, o limite de leitura: "
                "apague linhas e colunas vazias ou divida a planilha e envie de novo."
            )
        return [_format_cell(c.value, getattr(c, "number_format", None)) for c in row]

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ExtractionError("O arquivo XLSX está corrompido e não pôde ser aberto.") from exc
    try:
        sections: list[Section] = []
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue
            # The declared dimension (<dimension ref="A1:XFD1048576"/>) is a claim, not the data:
            # trusting it pads every row to the claimed width. Each row is read as wide as its cells.
            sheet.reset_dimensions()
            rows = (values(row) for row in sheet.iter_rows())
            sections.extend(_tabular_sections(rows, clean_text(sheet.title) or None, budget))
        title = workbook.properties.title if workbook.properties else None
    finally:
        workbook.close()
    return ExtractedDocument(
        title=_title_or_stem(title, name),
        sections=sections,
        pages=max(1, math.ceil(len(sections) / ROWS_PER_PAGE)),
        tabular=True,
    )


def _format_cell(value: object, number_format: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, int | float | Decimal):
        fmt = number_format or ""
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        if "R$" in fmt:
            return "R$ " + _brl_number(value, 2)
        if fmt.endswith("%") or fmt.endswith('%"'):
            return f"{_brl_number(value * 100, _decimals(fmt))}%"
        if float(value).is_integer():
            return str(int(value))
        return _brl_number(value, min(len(repr(float(value)).split(".")[1]), 6))
    return clean_text(str(value)).replace("\n", " ")


def _decimals(number_format: str) -> int:
    match = re.search(r"\.(0+)", number_format)
    return len(match.group(1)) if match else 0


def _brl_number(value: float | int | Decimal, decimals: int) -> str:
    """1234.5 -> '1.234,50' (pt-BR thousands and decimal separators)."""
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


# ---------------------------------------------------------------------------------------------
# Plain text, Markdown, HTML


def _extract_txt(data: bytes, name: str, budget: _TextBudget) -> ExtractedDocument:
    text = clean_text(_decode_text(data))
    sections = [budget.section(Section(text=text))] if text else []
    return ExtractedDocument(title=_stem(name), sections=sections)


_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _markdown_sections(text: str) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    in_fence = False

    def flush() -> None:
        body = clean_text("\n".join(buffer))
        if body:
            sections.append(Section(text=body, heading=heading))
        buffer.clear()

    for line in text.split("\n"):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            buffer.append(line)
            continue
        match = None if in_fence else _MD_HEADING.match(line)
        if match:
            flush()
            heading = clean_text(match.group(2)) or None
        else:
            buffer.append(line)
    flush()
    return sections


def _extract_markdown(data: bytes, name: str, budget: _TextBudget) -> ExtractedDocument:
    text = _decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    return ExtractedDocument(title=_stem(name), sections=[budget.section(s) for s in _markdown_sections(text)])


def _extract_html(data: bytes, name: str, limits: ExtractionLimits, budget: _TextBudget) -> ExtractedDocument:
    import trafilatura
    from lxml import html as lxml_html

    if len(data) > limits.max_html_bytes:  # the page's tree, not its text, is what costs time and memory
        raise ExtractionError(
            f"A página HTML tem {_format_size(len(data))}, acima do limite de {_format_size(limits.max_html_bytes)} "
            "para páginas: salve o conteúdo principal como PDF ou TXT e envie."
        )
    markup = pg_text(_decode_html(data))
    tree = None
    try:
        tree = lxml_html.fromstring(markup)
    except Exception:
        tree = None
    title = None
    if tree is not None:
        found = tree.find(".//title")
        if found is not None:
            title = found.text_content()

    markdown = None
    try:
        markdown = trafilatura.extract(
            markup,
            output_format="markdown",
            include_tables=True,
            include_comments=False,
            include_images=False,
            favor_recall=True,
        )
    except Exception:
        markdown = None
    if markdown and markdown.strip():
        sections = _markdown_sections(markdown)
    else:
        sections = []
        body = _html_body_text(tree) if tree is not None else ""
        if body:
            sections = [Section(text=body)]
    return ExtractedDocument(title=_title_or_stem(title, name), sections=[budget.section(s) for s in sections])


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _decode_html(data: bytes) -> str:
    """Bytes -> str: a BOM, else the <meta charset>, else UTF-8 with the cp1252 fallback."""
    match = None if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) else _META_CHARSET.search(data[:4096])
    text = None
    if match:
        try:
            text = data.decode(match.group(1).decode("ascii"), errors="replace")
        except LookupError:
            text = None
    if text is None:
        text = _decode_text(data)
    return _XML_DECLARATION.sub("", text, count=1)  # lxml refuses a str that declares its encoding


def _html_body_text(tree) -> str:
    for bad in tree.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    body = tree.find(".//body")
    node = body if body is not None else tree
    parts = [clean_text(t) for t in node.itertext()]
    return clean_text("\n".join(p for p in parts if p))


# ---------------------------------------------------------------------------------------------
# Images (OCR)


def _extract_image(data: bytes, name: str, timeout: float, limits: ExtractionLimits) -> ExtractedDocument:
    import pytesseract
    from PIL import Image, ImageOps, UnidentifiedImageError

    cap = limits.max_image_pixels
    # Pillow's own decompression-bomb check (a warning past the cap, an error past twice the cap),
    # for every image this process opens; ours below refuses past the cap, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = cap
    too_big = f"acima do limite de {_megapixels(cap)}: reduza a resolução e envie de novo."
    try:
        with warnings.catch_warnings():  # between the cap and twice it Pillow only warns: refused below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > cap:
            raise ExtractionError(f"A imagem tem {_megapixels(width * height)}, {too_big}")
        image.load()
        image = ImageOps.exif_transpose(image) or image
        gray = _grayscale(image)
    except ExtractionError:
        raise
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"A imagem tem mais de {_megapixels(2 * cap)}, {too_big}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ExtractionError("A imagem está corrompida e não pôde ser aberta.") from exc

    low, high = gray.getextrema()
    if high - low < 16:  # a flat image: nothing to read, no need to run tesseract
        raise ExtractionError("Nenhum texto encontrado na imagem.")
    gray = _ocr_scale(gray)
    try:
        data = pytesseract.image_to_data(gray, lang="por", timeout=timeout, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError as exc:
        raise ExtractionError("Leitura de imagens indisponível: o OCR (tesseract) não está instalado.") from exc
    except RuntimeError as exc:  # pytesseract signals its timeout with a bare RuntimeError
        if "timeout" in str(exc).lower():
            raise ExtractionError("Tempo esgotado ao ler o texto da imagem.") from exc
        raise ExtractionError("Não foi possível ler o texto da imagem.") from exc
    except Exception as exc:
        raise ExtractionError("Não foi possível ler o texto da imagem.") from exc
    text = _ocr_text(data)
    if not text:
        raise ExtractionError("Nenhum texto encontrado na imagem.")
    return ExtractedDocument(title=_stem(name), sections=[Section(text=text)])


def _megapixels(pixels: int) -> str:
    value = round(pixels / 1_000_000, 1)
    label = f"{value:g}".replace(".", ",")
    return f"{label} megapixel" if value < 2 else f"{label} megapixels"


OCR_MIN_CONFIDENCE = 60  # a picture without text still yields a few low-confidence "words"
OCR_NOISE_CONFIDENCE = 30


def _ocr_text(data: dict) -> str:
    """Rebuild the text from tesseract's word boxes: words joined per line, a blank line between
    paragraphs, lines made only of low-confidence noise dropped. Empty when no word is confident."""
    lines: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for i, word in enumerate(data.get("text", [])):
        word = (word or "").strip()
        if not word:
            continue
        try:
            confidence = float(data["conf"][i])
        except (TypeError, ValueError, KeyError, IndexError):
            confidence = 0.0
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append((word, confidence))
    confident = False
    out: list[str] = []
    paragraph = None
    for key in sorted(lines):
        words = lines[key]
        if max(c for _w, c in words) < OCR_NOISE_CONFIDENCE or sum(ch.isalnum() for w, _c in words for ch in w) < 2:
            continue
        confident = confident or any(c >= OCR_MIN_CONFIDENCE and sum(ch.isalnum() for ch in w) >= 2 for w, c in words)
        if paragraph is not None and key[:2] != paragraph:
            out.append("")
        paragraph = key[:2]
        out.append(" ".join(w for w, _c in words))
    return clean_text("\n".join(out)) if confident else ""


def _grayscale(image):
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent -> white, not black
        image = Image.alpha_composite(background, rgba)
    return image.convert("L")


def _ocr_scale(gray):
    from PIL import Image

    width, height = gray.size
    if max(width, height) > OCR_MAX_SIDE:
        factor = OCR_MAX_SIDE / max(width, height)
        return gray.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.LANCZOS)
    if width < OCR_MIN_WIDTH:
        factor = min(3.0, OCR_MIN_WIDTH / width, OCR_MAX_SIDE / max(height, 1))
        if factor > 1.1:
            return gray.resize((round(width * factor), round(height * factor)), Image.Resampling.LANCZOS)
    return gray


# ---------------------------------------------------------------------------------------------
# Fetching a URL


def fetch_url(
    url: str,
    *,
    timeout: float = 15.0,
    max_bytes: int = MAX_BYTES,
    allowance: egress.Allowance | None = None,
    resolver: egress.Resolver | None = None,
) -> tuple[bytes, str, str]:
    """Download `url` and return (body, filename, mime_type), through the egress guard
    (runtime.egress): only http(s), internal addresses refused at every redirect hop (at most
    MAX_REDIRECTS), at most `max_bytes`, everything within `timeout` seconds. `allowance` and
    `resolver` default to EGRESS_ALLOW_PRIVATE_NETWORKS and the system's DNS."""
    url = (url or "").strip()
    try:
        page = egress.fetch_sync(
            url,
            max_bytes=max_bytes,
            deadline_seconds=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
            max_redirects=MAX_REDIRECTS,
            allowance=allowance,
            resolver=resolver,
        )
    except egress.FetchError as exc:
        raise ExtractionError(_fetch_failure(exc, url, max_bytes)) from exc
    mime = page.headers.get("content-type", "").split(";")[0].strip().lower()
    return page.content, _filename_for(page.url, mime), mime or "application/octet-stream"


def _fetch_failure(exc: egress.FetchError, url: str, max_bytes: int) -> str:
    failure = egress.Failure
    host = exc.host or urlsplit(url).hostname or url
    if exc.failure == failure.invalid_url:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return "Só endereços que começam com http:// ou https:// podem ser importados."
        return "Endereço inválido: falta o nome do site." if not urlsplit(url).hostname else "Endereço inválido."
    if exc.failure == failure.blocked:
        return "Endereço não permitido: o site aponta para uma rede interna ou local."
    if exc.failure == failure.not_found:
        return f"Site não encontrado: {host}."
    if exc.failure == failure.timeout:
        return "Tempo esgotado ao buscar a página."
    if exc.failure == failure.too_large:
        return f"Arquivo maior que o limite de {_format_size(max_bytes)}."
    if exc.failure == failure.too_many_redirects:
        return "A página redirecionou vezes demais."
    if exc.failure == failure.http_status:
        if exc.status_code in egress.REDIRECT_STATUSES:
            return f"A página respondeu HTTP {exc.status_code} sem destino."
        return f"A página respondeu HTTP {exc.status_code}."
    return f"Não foi possível conectar a {host}."


def _filename_for(url: str, mime: str) -> str:
    path = urlsplit(url).path
    name = _basename(unquote(path)) if path and not path.endswith("/") else ""
    name = re.sub(r"[\x00-\x1f]", "", name)
    if name == "documento":
        name = ""
    if not name:
        if mime in ("", "text/html", "application/xhtml+xml"):
            return "pagina.html"
        return "arquivo" + (mimetypes.guess_extension(mime) or "")
    if not _extension(name) and mime:
        ext = ".html" if mime in ("text/html", "application/xhtml+xml") else mimetypes.guess_extension(mime)
        if ext:
            name += ext
    return name
