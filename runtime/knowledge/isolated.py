"""`extract()` in a child process, for every file that comes from outside (knowledge uploads, fetched
pages, Drive files, lead media). The caps of ExtractionLimits stop the bombs we know of; this stops
the ones we don't: the child is killed (with anything it started, e.g. tesseract) when the wall
clock runs out, and its address space is capped, so a worker never stalls nor runs out of memory.
A Python thread can't be killed; a process can, and its memory goes back with it.

Children come from a multiprocessing fork server: a clean single-threaded process started once,
with the readers' libraries imported, that forks one child per extraction in milliseconds (forking
the worker itself, with its threads and connection pools, would not be safe).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from .limits import ExtractionLimits
from .loaders import MAX_BYTES, OCR_TIMEOUT_S, extract
from .types import ExtractedDocument, ExtractionError

log = logging.getLogger(__name__)

# Imported once by the fork server, shared by every child.
_PRELOAD = ["runtime.knowledge.loaders", "pypdf", "docx", "openpyxl", "PIL.Image", "pytesseract", "trafilatura"]

_context: Any = None
_lock = threading.Lock()


def _fork_server() -> Any:
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def extract_isolated(
    data: bytes,
    filename: str,
    mime_type: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    ocr_timeout: float = OCR_TIMEOUT_S,
    limits: ExtractionLimits | None = None,
) -> ExtractedDocument:
    """`extract()` with a hard wall clock and a memory cap. Always an ExtractedDocument or an
    ExtractionError whose message says why in pt-BR (a timeout, memory, a crashed reader)."""
    if not data:
        raise ExtractionError("Arquivo vazio.")
    limits = limits or ExtractionLimits.from_settings()
    context = _fork_server()
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(writer, data, filename, mime_type, max_bytes, min(ocr_timeout, limits.timeout_seconds), limits),
        name="pv-extract",
        daemon=True,
    )
    with _lock:  # Process.start() reaps finished children: one thread at a time
        child.start()
    writer.close()
    answered = False
    try:
        if not reader.poll(limits.timeout_seconds):
            log.warning("extraction of %r killed after %.0f s", filename, limits.timeout_seconds)
            raise ExtractionError(
                f"A leitura do arquivo passou de {limits.timeout_seconds:g} s e foi interrompida: ele é pesado "
                "demais para ler. Divida-o em arquivos menores (ou salve como PDF com texto) e envie de novo."
            )
        try:
            outcome, payload = reader.recv()
            answered = True
        except (EOFError, OSError):
            outcome, payload = "died", None
    finally:
        reader.close()
        code = _stop(child, answered)
    if outcome == "ok":
        return payload
    if outcome == "error":
        raise ExtractionError(payload)
    if outcome == "memory":
        raise ExtractionError(_out_of_memory(limits))
    log.warning("extraction of %r: the reader died (exit code %s)", filename, code)
    if code == -signal.SIGKILL:  # the kernel's OOM killer
        raise ExtractionError(_out_of_memory(limits))
    raise ExtractionError(
        "A leitura do arquivo falhou: o leitor parou inesperadamente (o arquivo pode estar corrompido). "
        "Salve-o de novo (ou exporte como PDF) e envie."
    )


def _out_of_memory(limits: ExtractionLimits) -> str:
    return (
        f"A leitura do arquivo precisou de mais memória do que o limite ({limits.max_memory_mb} MB) e foi "
        "interrompida: divida-o em arquivos menores (ou reduza a resolução das imagens) e envie de novo."
    )


def _stop(child: Any, answered: bool) -> int | None:
    """Kill the child's whole process group (tesseract included) if it still runs, reap it, and
    return its exit code."""
    child.join(2 if answered else 0.2)  # one that answered (or died) exits at once
    if child.exitcode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.kill()  # before it made its own group, killpg had nothing to kill
        child.join(5)
    code = child.exitcode
    if code is not None:
        child.close()
    return code


def _child(
    conn: Connection,
    data: bytes,
    filename: str,
    mime_type: str | None,
    max_bytes: int,
    ocr_timeout: float,
    limits: ExtractionLimits,
) -> None:
    os.setpgid(0, 0)  # its own process group: a kill reaches what it starts
    os.environ["OMP_THREAD_LIMIT"] = "1"  # tesseract: one thread, and no per-thread arenas eating the cap
    _cap_memory(limits.max_memory_mb)
    outcome: tuple[str, Any]
    try:
        doc = extract(data, filename, mime_type, max_bytes=max_bytes, ocr_timeout=ocr_timeout, limits=limits)
        outcome = ("ok", doc)
    except ExtractionError as exc:
        outcome = ("error", str(exc))
    except MemoryError:
        outcome = ("memory", None)
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    conn.close()


def _cap_memory(megabytes: int) -> None:
    """Address space = what the child has now (the preloaded libraries) + the budget."""
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
