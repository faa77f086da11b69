"""Document bombs fail alone, within seconds, with a reason in pt-BR; the worker stays bounded.

The bombs are built by tests/bombs.py. Each test carries a timeout: a reader that stalls on a
bomb fails the test instead of hanging the suite.
"""

from __future__ import annotations

import io
import resource
import time
from pathlib import Path

import psutil
import pytest
from fastapi.testclient import TestClient

from runtime.api import create_app
from runtime.auth.api_keys import create_api_key
from runtime.knowledge.loaders import extract
from runtime.knowledge.types import ExtractionError
from tests import bombs
from tests.conftest import wait_until

COMPANY = Path(__file__).resolve().parent.parent / "data" / "company"


def refused(data: bytes, name: str, within: float = 5.0) -> str:
    started = time.monotonic()
    with pytest.raises(ExtractionError) as exc:
        extract(data, name)
    assert time.monotonic() - started < within
    return str(exc.value)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def strays(before: set[int]) -> list[str]:
    """Processes started below this one since `before` that are still alive (the multiprocessing
    fork server and its resource tracker stay by design)."""
    alive = []
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if proc.pid not in before and "forkserver" not in cmdline and "resource_tracker" not in cmdline:
            alive.append(f"{proc.pid} {cmdline[:80]}")
    return alive


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# ---------------------------------------------------------------------------------------------
# Caps, read in this process


@pytest.mark.timeout(60)
def test_a_pdf_listing_one_page_500_times_is_refused_at_once():
    data = bombs.pdf_repeating_one_page(500)
    assert len(data) < 40_000
    reason = refused(data, "catalogo.pdf")
    assert reason.startswith("O PDF tem 500 páginas, mais que o limite de 300")


@pytest.mark.timeout(60)
def test_a_docx_inflating_to_10_mb_of_xml_is_refused_at_once():
    data = bombs.docx_inflating(10_000_000)
    assert len(data) < 100_000
    reason = refused(data, "contrato.docx")
    assert "DOCX" in reason and "vezes" in reason and "descompactado" in reason


@pytest.mark.timeout(60)
def test_a_docx_whose_parts_inflate_past_the_cap_is_refused(monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("EXTRACT_MAX_UNZIPPED_BYTES", "1000000")
    get_settings.cache_clear()
    # 1.5 MB of ordinary (poorly compressible) text: no ratio alarm, only the size cap
    words = " ".join(f"item{i:07d}" for i in range(120_000))
    data = bombs.docx_with_body(f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>".encode())
    reason = refused(data, "grande.docx")
    assert "DOCX" in reason and "1 MB" in reason


@pytest.mark.timeout(60)
def test_many_paragraphs_in_a_docx_read_in_seconds():
    """python-docx resolves a paragraph's style by scanning every style (about 0.4 ms a paragraph
    here, 17 s for these 40,000). Headings are decided once per style."""
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Seção {i}</w:t></w:r></w:p>'
        f"<w:p><w:r><w:t>Texto da seção {i}.</w:t></w:r></w:p>"
        for i in range(20_000)
    )
    started = time.monotonic()
    doc = extract(bombs.docx_with_body(body.encode()), "manual.docx")
    assert time.monotonic() - started < 10
    assert len(doc.sections) == 20_000 and doc.sections[-1].heading == "Seção 19999"


@pytest.mark.timeout(60)
def test_an_xlsx_claiming_a_huge_sheet_reads_only_its_cells():
    data = bombs.xlsx_with_huge_dimension()
    started = time.monotonic()
    doc = extract(data, "precos.xlsx")
    assert time.monotonic() - started < 10
    assert len(doc.sections) == 20_000 and doc.sections[-1].text == "Produto: Limpeza 19999; Preço: 180"


@pytest.mark.timeout(60)
def test_a_csv_of_a_million_tiny_rows_is_refused_by_the_text_cap():
    data = b"produto;preco\n" + b"a;b\n" * 1_250_000  # 5 MB, 25 million characters once labelled
    reason = refused(data, "lista.csv")
    assert reason.startswith("O arquivo tem mais de 5.000.000 caracteres de texto")


@pytest.mark.timeout(60)
def test_a_huge_text_file_is_refused_by_the_text_cap(monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("EXTRACT_MAX_CHARS", "100000")
    get_settings.cache_clear()
    assert "100.000 caracteres" in refused(("Texto qualquer. " * 20_000).encode(), "notas.txt")
    assert extract(("Texto qualquer. " * 1000).encode(), "curto.txt").sections


@pytest.mark.timeout(60)
def test_an_html_page_over_the_size_cap_is_refused():
    unit = b"<p>Corte de cabelo masculino R$ 50,00 com lavagem</p>\n"
    data = b"<html><head><title>t</title></head><body>" + unit * (6_000_000 // len(unit)) + b"</body></html>"
    reason = refused(data, "pagina.html")
    assert reason.startswith("A página HTML tem 6 MB, acima do limite de 5 MB")


@pytest.mark.timeout(60)
def test_an_image_over_the_pixel_cap_is_refused_before_ocr(monkeypatch, fresh_settings):
    from PIL import Image

    from runtime.config import get_settings

    monkeypatch.setenv("EXTRACT_MAX_IMAGE_PIXELS", "1000000")
    get_settings.cache_clear()
    reason = refused(bombs.png(2000, 1000), "foto.png")
    assert reason.startswith("A imagem tem 2 megapixels, acima do limite de 1 megapixel")
    assert Image.MAX_IMAGE_PIXELS == 1_000_000  # Pillow's own bomb check follows the cap too


# ---------------------------------------------------------------------------------------------
# The real ingestion path: a child process with a wall clock and a memory cap


@pytest.fixture
def api(pg, make_workspace):
    ws = make_workspace("Loja")
    key = create_api_key(ws.workspace_id, "t").key
    with TestClient(create_app(), base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def upload(api, name: str, data: bytes) -> str:
    r = api.post("/api/v1/knowledge/documents", files={"file": (name, io.BytesIO(data))})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def settled(api, doc_id: str, timeout: float = 30) -> dict:
    def done():
        d = api.get(f"/api/v1/knowledge/documents/{doc_id}").json()
        return d if d["status"] in ("ready", "failed") else None

    return wait_until(done, timeout=timeout)


@pytest.mark.timeout(90)
def test_a_document_needing_too_much_memory_is_stopped_and_this_process_stays_small(
    api, worker, monkeypatch, fresh_settings
):
    from runtime.config import get_settings

    monkeypatch.setenv("EXTRACT_MAX_MEMORY_MB", "64")
    get_settings.cache_clear()
    before, peak = children(), peak_rss_mb()
    started = time.monotonic()
    doc = settled(api, upload(api, "foto-grande.png", bombs.png(7000, 7000)))  # 49 MP: 150+ MB to decode
    assert time.monotonic() - started < 20
    assert doc["status"] == "failed"
    assert doc["error"].startswith("A leitura do arquivo precisou de mais memória do que o limite")
    assert peak_rss_mb() - peak < 100  # the pixels were decoded in the child, not here
    assert strays(before) == []


@pytest.mark.timeout(90)
def test_a_slow_document_is_killed_at_the_wall_clock_and_others_still_process(api, worker, monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("EXTRACT_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    before = children()
    started = time.monotonic()
    slow = upload(api, "lento.pdf", bombs.pdf_slow_page())
    good = upload(api, "sobre-nos.md", (COMPANY / "sobre-nos.md").read_bytes())
    doc = settled(api, slow)
    assert time.monotonic() - started < 15  # pypdf needs about 30 s for that page
    assert doc["status"] == "failed"
    assert doc["error"].startswith("A leitura do arquivo passou de 2 s e foi interrompida")
    assert settled(api, good)["status"] == "ready"
    wait_until(lambda: strays(before) == [], timeout=5)


@pytest.mark.timeout(120)
def test_bombs_uploaded_to_the_knowledge_base_fail_alone_with_their_reason(api, worker):
    ids = {
        "catalogo.pdf": upload(api, "catalogo.pdf", bombs.pdf_repeating_one_page(500)),
        "contrato.docx": upload(api, "contrato.docx", bombs.docx_inflating()),
        "precos.xlsx": upload(api, "precos.xlsx", bombs.xlsx_with_huge_dimension()),
    }
    good = upload(api, "politicas.pdf", (COMPANY / "politicas-e-procedimentos.pdf").read_bytes())
    docs = {name: settled(api, i) for name, i in ids.items()}
    assert docs["catalogo.pdf"]["status"] == "failed"
    assert docs["catalogo.pdf"]["error"].startswith("O PDF tem 500 páginas")
    assert docs["contrato.docx"]["status"] == "failed" and "vezes" in docs["contrato.docx"]["error"]
    assert docs["precos.xlsx"]["status"] == "ready"
    assert settled(api, good)["status"] == "ready"
