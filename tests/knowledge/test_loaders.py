"""Document loaders: every format of the sample company, bad inputs, and fetching URLs (no database).

The PNG goes through the real tesseract (apt tesseract-ocr + tesseract-ocr-por).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime import egress
from runtime.knowledge.loaders import clean_text, extract, fetch_url
from runtime.knowledge.types import ExtractedDocument, ExtractionError
from tests.fakes.servers import serve_in_thread

DATA = Path(__file__).resolve().parent.parent / "data"
COMPANY = DATA / "company"


def load(name: str, **kwargs) -> ExtractedDocument:
    return extract((COMPANY / name).read_bytes(), name, **kwargs)


def text_of(doc: ExtractedDocument) -> str:
    return "\n".join(section.text for section in doc.sections)


def flat(text: str) -> str:
    return " ".join(text.split())


def reason(exc: pytest.ExceptionInfo[ExtractionError]) -> str:
    return str(exc.value)


# ---------------------------------------------------------------------------------------------
# The sample company: every format


def test_company_files_are_committed_and_small():
    names = sorted(p.name for p in COMPANY.iterdir())
    assert names == [
        "convenios.csv",
        "horarios.png",
        "perguntas-frequentes.docx",
        "politicas-e-procedimentos.pdf",
        "sobre-nos.md",
        "tabela-de-precos.xlsx",
    ]
    assert all((COMPANY / n).stat().st_size < 200_000 for n in names)


def test_questions_point_at_existing_files_half_with_accents():
    rows = [json.loads(line) for line in (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 40
    files = {p.name for p in COMPANY.iterdir()}
    assert all(set(r["expected_sources"]) <= files and r["expected_sources"] for r in rows)
    assert {s for r in rows for s in r["expected_sources"]} == files
    accented = [r for r in rows if any(unicodedata.decomposition(ch) for ch in r["question"])]
    assert len(accented) == 20


def test_pdf_pages_title_accents_and_hyphenation():
    doc = load("politicas-e-procedimentos.pdf")
    assert doc.title == "Políticas e Procedimentos — Clínica Sorriso Feliz"
    assert doc.pages == 4
    assert not doc.tabular
    assert [s.page for s in doc.sections] == [1, 2, 3, 4]
    by_page = {s.page: s.text for s in doc.sections}
    assert "Biossegurança" in by_page[1]
    assert "esterilizados em autoclave" in by_page[1]  # "esteriliza-\ndos" joined
    assert "esteriliza-" not in by_page[1]
    assert "24 horas de antecedência" in by_page[2]
    assert "Pix: 5% de desconto para pagamento à vista." in by_page[3]
    # a line the layout wrapped mid-sentence is joined again
    assert "parcelamos em até 10 vezes sem juros, com parcela mínima de R$ 100,00." in by_page[3]
    assert "Implantes têm garantia de 5 anos" in by_page[4]


def test_docx_headings_table_rows_and_core_title():
    doc = load("perguntas-frequentes.docx")
    assert doc.title == "Perguntas Frequentes — Clínica Sorriso Feliz"
    assert doc.pages == 1
    sections = {s.heading: s.text for s in doc.sections}
    assert sections[None].startswith("Respostas às dúvidas mais comuns")
    aftercare = sections["Cuidados após o clareamento"]
    assert "dieta branca" in aftercare and "café" in aftercare and "açaí" in aftercare
    assert "a cada 30 dias" in sections["De quanto em quanto tempo é a manutenção?"]
    assert "cera ortodôntica" in sections["O que fazer se o bráquete soltar?"]
    first_visit = sections["Primeira consulta"]
    assert "Documento: RG ou CNH; Quando levar: Sempre" in first_visit
    assert "Documento: Carteirinha do convênio; Quando levar: Atendimento pelo plano" in first_visit
    # headings with no text of their own make no empty section
    assert "Clareamento dental" not in sections
    assert all(s.text for s in doc.sections)


def test_xlsx_every_sheet_rows_as_header_value_lines():
    doc = load("tabela-de-precos.xlsx")
    assert doc.tabular
    assert doc.title == "tabela-de-precos"
    assert doc.pages == 1
    assert {s.heading for s in doc.sections} == {"Tratamentos", "Produtos"}
    lines = [s.text for s in doc.sections]
    assert len(lines) == 18  # 14 treatments + 4 products; headers are not rows
    assert (
        "Serviço: Limpeza (profilaxia); Preço: R$ 180,00; Duração: 50 min; Observações: Inclui aplicação de flúor"
        in lines
    )
    assert "Serviço: Implante dentário com coroa; Preço: R$ 3.800,00" in text_of(doc)
    assert "Serviço: Tratamento de canal (molar); Preço: R$ 1.200,00; Duração: 2 a 3 sessões" in lines  # no empty cell
    assert "Produto: Enxaguante bucal sem álcool; Preço: R$ 38,90; Observações: 500 ml" in lines


def test_csv_semicolon_rows_and_title_from_filename():
    doc = load("convenios.csv")
    assert doc.tabular and doc.title == "convenios" and doc.pages == 1
    assert len(doc.sections) == 8
    assert doc.sections[0].text == (
        "Convênio: Amil Dental; Situação: Aceito; Cobertura na clínica: Consultas, limpeza, restaurações e canal; "
        "Observações: Levar carteirinha e documento com foto"
    )
    assert "Convênio: Unimed Odonto; Situação: Não aceito; Observações: Fornecemos recibo" in text_of(doc)


def test_markdown_split_on_headings():
    doc = load("sobre-nos.md")
    assert doc.title == "sobre-nos"
    headings = [s.heading for s in doc.sections]
    assert headings == [
        "Sobre a Clínica Sorriso Feliz",
        "Endereço",
        "Como chegar",
        "Estacionamento",
        "Acessibilidade",
        "Contato",
    ]
    parking = doc.sections[3].text
    assert "Park Center" in parking and "2 primeiras horas são\ngratuitas" in parking
    assert "#" not in text_of(doc).replace("# ", "")


def test_png_through_tesseract():
    doc = load("horarios.png")
    text = text_of(doc)
    assert doc.title == "horarios" and doc.pages == 1
    assert "Horário de atendimento" in text
    assert "Sábado: 8h às 13h" in text
    assert "Plantão de urgência" in text
    assert "R$ 250,00" in text


def test_small_jpeg_photo_is_upscaled_and_read():
    """A tinted, low-quality JPEG with ~12 px letters (a phone screenshot resent on WhatsApp):
    read correctly only because the loader scales it up ("8h" came out as "Bh" without)."""
    from PIL import Image, ImageOps

    source = Image.open(COMPANY / "horarios.png").convert("L")
    small = source.resize((287, 196), Image.Resampling.LANCZOS)
    photo = ImageOps.colorize(small, black="#1a237e", white="#fff3d6")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=60)
    text = text_of(extract(buffer.getvalue(), "WhatsApp Image 2025-03-10.jpeg"))
    assert "Segunda a sexta: 8h às 19h" in text and "R$ 250,00" in text


# ---------------------------------------------------------------------------------------------
# Other formats and detection


def test_txt_falls_back_to_cp1252_and_drops_control_chars():
    raw = "Promoção de inverno:\x00 cobertor de lã por R$ 89,90\x07\r\n\r\n\r\n\r\nAté domingo!".encode("cp1252")
    doc = extract(raw, "avisos.txt")
    assert doc.title == "avisos"
    assert doc.sections[0].text == "Promoção de inverno: cobertor de lã por R$ 89,90\n\nAté domingo!"


def test_txt_utf8_with_bom_and_utf16():
    assert text_of(extract("\ufeffAçúcar e café".encode(), "a.txt")) == "Açúcar e café"
    assert text_of(extract("Açúcar e café".encode("utf-16"), "a.txt")) == "Açúcar e café"


def test_html_main_text_title_and_headings():
    html = """<!doctype html><html><head><meta charset="utf-8"><title>Móveis Bela Casa — Sofás</title></head>
    <body><nav><a href="/">Início</a> | <a href="/contato">Contato</a></nav>
    <main><h1>Sofás sob medida</h1>
    <p>Fabricamos sofás sob medida em Curitiba há 20 anos, com tecido à escolha do cliente e entrega em até
    30 dias úteis para toda a região metropolitana.</p>
    <h2>Formas de pagamento</h2>
    <p>Aceitamos Pix, cartão de crédito em até 12 vezes e boleto bancário para empresas cadastradas.</p></main>
    <footer>© 2025 Bela Casa. Todos os direitos reservados.</footer></body></html>""".encode()
    doc = extract(html, "sofas.html")
    assert doc.title == "Móveis Bela Casa — Sofás"
    sections = {s.heading: s.text for s in doc.sections}
    assert "tecido à escolha do cliente" in sections["Sofás sob medida"]
    assert "cartão de crédito em até 12 vezes" in sections["Formas de pagamento"]
    assert "Início" not in text_of(doc)


def test_html_charset_from_meta_and_xml_declaration():
    latin1 = '<html><head><meta charset="iso-8859-1"><title>Padaria Pão Quente</title></head><body>'
    latin1 += "<p>Pão de queijo quentinho todos os dias às 7h, feito com polvilho e queijo da Canastra.</p>"
    doc = extract((latin1 + "</body></html>").encode("latin-1"), "padaria.htm")
    assert doc.title == "Padaria Pão Quente" and "Pão de queijo quentinho" in text_of(doc)
    xhtml = '<?xml version="1.0" encoding="utf-8"?><html><head><title>Café</title></head><body><p>Café coado.</p>'
    assert extract((xhtml + "</body></html>").encode(), "cafe.xhtml").title == "Café"


def test_html_falls_back_to_body_text(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: None)
    html = b"<html><head><title>Oi</title><style>p{color:red}</style></head><body><p>Pre\xc3\xa7o: R$ 10</p>"
    html += b"<script>alert(1)</script></body></html>"
    doc = extract(html, "x.html")
    assert doc.title == "Oi"
    assert text_of(doc) == "Preço: R$ 10"


def test_content_sniffing_beats_the_extension():
    pdf = (COMPANY / "politicas-e-procedimentos.pdf").read_bytes()
    assert extract(pdf, "arquivo.txt").pages == 4
    docx = (COMPANY / "perguntas-frequentes.docx").read_bytes()
    assert extract(docx, "faq", mime_type=None).title.startswith("Perguntas Frequentes")
    xlsx = (COMPANY / "tabela-de-precos.xlsx").read_bytes()
    assert extract(xlsx, "download.bin").tabular
    assert extract(b"<!DOCTYPE html><html><body><p>Ol\xc3\xa1 mundo</p></body></html>", "pagina").sections
    assert extract(b"# T\n\ntexto", "leia", mime_type="text/markdown").sections[0].heading == "T"


def test_csv_comma_cp1252_and_pages_per_50_rows():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Bairro", "Taxa de entrega", "Prazo"])
    for i in range(120):
        writer.writerow([f"Bairro São José {i}", "R$ 15,00", "2 dias"])
    doc = extract(buffer.getvalue().encode("cp1252"), "entregas.csv")
    assert len(doc.sections) == 120 and doc.pages == 3 and doc.tabular
    assert doc.sections[0].text == "Bairro: Bairro São José 0; Taxa de entrega: R$ 15,00; Prazo: 2 dias"


def test_docx_localized_heading_style_and_no_core_title():
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    styles = document.styles
    styles.add_style("Título 1", WD_STYLE_TYPE.PARAGRAPH)
    custom = styles.add_style("Seção da Loja", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = styles["Heading 2"]
    document.add_paragraph("Entregas", style="Título 1")
    document.add_paragraph("Entregamos em toda a Grande Curitiba.")
    document.add_paragraph("Montagem", style="Seção da Loja")
    document.add_paragraph("A montagem é grátis.")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = extract(buffer.getvalue(), "Loja Bela Casa.docx")
    assert doc.title == "Loja Bela Casa"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Entregas", "Entregamos em toda a Grande Curitiba."),
        ("Montagem", "A montagem é grátis."),
    ]


def test_pdf_without_title_metadata_uses_file_name():
    doc = extract(_pdf_with_text("Entrega grátis acima de R$ 300,00."), "C:\\Users\\ana\\Catálogo 2025.pdf")
    assert doc.title == "Catálogo 2025"
    assert text_of(doc).startswith("Entrega grátis acima de R$ 300,00.")


def test_pdf_with_owner_password_only_is_read():
    doc = extract(_encrypted_pdf(user_password=""), "a.pdf")
    assert doc.pages == 4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x00b\x01c\x7fd", "abcd"),
        ("  muitos    espaços\t\te\u00a0tabs  ", "muitos espaços e tabs"),
        ("linha 1   \n\n\n\n\nlinha 2\r\nlinha 3", "linha 1\n\nlinha 2\nlinha 3"),
        ("procedi-\nmento", "procedimento"),
        ("encontrá-\nlo", "encontrá-lo"),
        ("esco-\nla", "escola"),
        ("guarda-\n-chuva", "guarda-chuva"),
        ("Guarda-\nChuva", "Guarda-\nChuva"),
        ("10-\n20", "10-\n20"),
        ("cafe\u0301", "café"),  # decomposed accent -> composed
        ("pa\u00adlavra\u200b", "palavra"),
        ("", ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


# ---------------------------------------------------------------------------------------------
# Bad input: each has its reason in pt-BR


def test_empty_file():
    with pytest.raises(ExtractionError) as exc:
        extract(b"", "vazio.pdf")
    assert reason(exc) == "Arquivo vazio."


def test_oversize_file():
    with pytest.raises(ExtractionError) as exc:
        load("politicas-e-procedimentos.pdf", max_bytes=10_000)
    assert reason(exc) == "Arquivo maior que o limite de 10 KB."
    with pytest.raises(ExtractionError) as exc:
        extract(b"x" * 20_000_001, "grande.txt")
    assert reason(exc) == "Arquivo maior que o limite de 20 MB."


def test_encrypted_pdf():
    with pytest.raises(ExtractionError) as exc:
        extract(_encrypted_pdf(user_password="segredo"), "protegido.pdf")
    assert reason(exc).startswith("PDF protegido por senha:")


@pytest.mark.parametrize("cut", [2000, 0.5, -300])
def test_truncated_pdf(cut):
    pdf = (COMPANY / "politicas-e-procedimentos.pdf").read_bytes()
    end = int(len(pdf) * cut) if isinstance(cut, float) else cut
    with pytest.raises(ExtractionError) as exc:
        extract(pdf[:end], "cortado.pdf")
    assert "corrompido" in reason(exc)
    assert exc.value.__cause__ is not None  # the library error is chained, not leaked


def test_scanned_pdf_without_text_layer():
    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("L", (200, 100), 255), x=10, y=10, w=100)
    with pytest.raises(ExtractionError) as exc:
        extract(bytes(pdf.output()), "escaneado.pdf")
    assert "não tem texto extraível" in reason(exc) and "digitalizado" in reason(exc)


def test_pdf_extension_without_pdf_content():
    with pytest.raises(ExtractionError) as exc:
        extract(b"isto nao e um pdf", "contrato.pdf")
    assert "não é um PDF válido" in reason(exc)
    with pytest.raises(ExtractionError) as exc:
        extract(b"isto nao e um pdf", "contrato", mime_type="application/pdf")
    assert "não é um PDF válido" in reason(exc)


def test_zip_that_is_not_a_docx():
    data = _zip({"leia-me.txt": "oi"})
    with pytest.raises(ExtractionError) as exc:
        extract(data, "faq.docx")
    assert "corrompido" in reason(exc) and "Word" in reason(exc)
    with pytest.raises(ExtractionError) as exc:
        extract(data, "fotos.zip")
    assert "não suportado" in reason(exc) and "ZIP" in reason(exc)


@pytest.mark.parametrize(
    ("files", "name"),
    [
        ({"[Content_Types].xml": "<Types/>", "word/document.xml": "<não é xml"}, "faq.docx"),
        ({"xl/workbook.xml": "<x"}, "precos.xlsx"),
    ],
)
def test_corrupt_docx_and_xlsx(files, name):
    with pytest.raises(ExtractionError) as exc:
        extract(_zip(files), name)
    assert "corrompido" in reason(exc)


def test_truncated_docx():
    data = (COMPANY / "perguntas-frequentes.docx").read_bytes()[:5000]
    with pytest.raises(ExtractionError) as exc:
        extract(data, "faq.docx")
    assert "corrompido" in reason(exc)


def test_unknown_binary_and_legacy_office():
    with pytest.raises(ExtractionError) as exc:
        extract(bytes(range(256)) * 4, "firmware.bin")
    assert reason(exc).startswith("Tipo de arquivo não suportado (.bin): firmware.bin.")
    with pytest.raises(ExtractionError) as exc:
        extract(bytes(range(256)) * 4, "arquivo")
    assert "não suportado" in reason(exc)
    with pytest.raises(ExtractionError) as exc:
        extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "antigo.doc")
    assert ".doc" in reason(exc) and "docx" in reason(exc)


def test_image_without_text():
    from PIL import Image, ImageDraw

    blank = Image.new("RGB", (400, 300), "white")
    shapes = blank.copy()
    draw = ImageDraw.Draw(shapes)
    draw.ellipse((40, 40, 200, 200), fill="red")
    draw.rectangle((240, 80, 380, 280), fill="navy")
    for image in (blank, shapes):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        with pytest.raises(ExtractionError) as exc:
            extract(buffer.getvalue(), "foto.png")
        assert reason(exc) == "Nenhum texto encontrado na imagem."


def test_corrupt_image():
    data = (COMPANY / "horarios.png").read_bytes()[:3000]
    with pytest.raises(ExtractionError) as exc:
        extract(data, "horarios.png")
    assert "imagem está corrompida" in reason(exc)


def test_ocr_timeout_is_an_extraction_error(monkeypatch):
    import pytesseract

    def slow(*args, **kwargs):
        assert kwargs["timeout"] == 0.5 and kwargs["lang"] == "por"
        raise RuntimeError("Tesseract process timeout")

    monkeypatch.setattr(pytesseract, "image_to_data", slow)
    with pytest.raises(ExtractionError) as exc:
        load("horarios.png", ocr_timeout=0.5)
    assert reason(exc) == "Tempo esgotado ao ler o texto da imagem."


def test_no_library_exception_escapes(monkeypatch):
    import openpyxl

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(openpyxl, "load_workbook", broken)
    with pytest.raises(ExtractionError) as exc:
        load("tabela-de-precos.xlsx")
    assert "XLSX" in reason(exc) and "corrompido" in reason(exc)


# ---------------------------------------------------------------------------------------------
# fetch_url against a local server


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Clínica Sorriso Feliz — Blog</title></head>
<body><nav>Início · Blog · Contato</nav><article><h1>Como escolher a escova de dentes</h1>
<p>Prefira cerdas macias e cabeça pequena, que alcança os dentes do fundo. Troque a escova a cada três meses
ou quando as cerdas ficarem abertas.</p></article><footer>Todos os direitos reservados.</footer></body></html>"""


async def _page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def _slow(request: Request) -> Response:
    await asyncio.sleep(1.0)
    return PlainTextResponse("tarde demais")


async def _drip(request: Request) -> Response:
    async def body():
        for _ in range(30):
            yield b"."
            await asyncio.sleep(0.1)

    return StreamingResponse(body(), media_type="text/plain")


async def _big(request: Request) -> Response:
    async def body():
        for _ in range(10):
            yield b"x" * 1000

    return StreamingResponse(body(), media_type="text/plain")  # no Content-Length


async def _pdf(request: Request) -> Response:
    return Response((COMPANY / "politicas-e-procedimentos.pdf").read_bytes(), media_type="application/pdf")


async def _declared_huge(request: Request) -> Response:
    async def body():
        yield b"%PDF-1.4"
        await asyncio.sleep(2)

    return StreamingResponse(body(), media_type="application/pdf", headers={"content-length": "30000000"})


def _app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", _page),
            Route("/blog/escova", _page),
            Route("/antigo", lambda r: RedirectResponse("/blog/escova", status_code=301)),
            Route("/loop", lambda r: RedirectResponse("/loop", status_code=302)),
            Route("/lento", _slow),
            Route("/gotejando", _drip),
            Route("/grande", _big),
            Route("/docs/Políticas.pdf", _pdf),
            Route("/baixar", _pdf),
            Route("/erro", lambda r: PlainTextResponse("fora do ar", status_code=503)),
            Route("/catalogo.pdf", _declared_huge),
            Route(
                "/promo",
                lambda r: RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302),
            ),
        ]
    )


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve_in_thread(_app()) as url:
        yield url


def test_fetch_html_page_and_extract_main_text(site):
    body, filename, mime = fetch_url(f"{site}/blog/escova")
    assert (filename, mime) == ("escova.html", "text/html")
    doc = extract(body, filename, mime)
    assert doc.title == "Clínica Sorriso Feliz — Blog"
    assert "Troque a escova a cada três meses" in flat(text_of(doc))
    assert "Todos os direitos reservados" not in text_of(doc)


def test_fetch_root_is_pagina_html(site):
    _body, filename, _mime = fetch_url(site + "/")
    assert filename == "pagina.html"


def test_fetch_file_names_from_path_or_type(site):
    body, filename, mime = fetch_url(f"{site}/docs/Pol%C3%ADticas.pdf")
    assert (filename, mime) == ("Políticas.pdf", "application/pdf")
    assert extract(body, filename, mime).pages == 4
    _body, filename, _mime = fetch_url(f"{site}/baixar")
    assert filename == "baixar.pdf"


def test_fetch_follows_redirects_but_not_forever(site):
    body, filename, _mime = fetch_url(f"{site}/antigo")
    assert filename == "escova.html" and b"escova" in body
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/loop")
    assert "redirecionou vezes demais" in reason(exc)


def test_fetch_404_and_503(site):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/nao-existe")
    assert reason(exc) == "A página respondeu HTTP 404."
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/erro")
    assert reason(exc) == "A página respondeu HTTP 503."


def test_fetch_connection_refused():
    from tests.fakes.servers import free_port

    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"http://127.0.0.1:{free_port()}/")
    assert reason(exc) == "Não foi possível conectar a 127.0.0.1."


def test_fetch_timeout(site):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/lento", timeout=0.2)
    assert reason(exc) == "Tempo esgotado ao buscar a página."


def test_fetch_total_deadline_stops_a_slow_drip(site):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/gotejando", timeout=0.5)
    assert reason(exc) == "Tempo esgotado ao buscar a página."


def test_fetch_size_limit_while_streaming(site):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/grande", max_bytes=5000)
    assert reason(exc) == "Arquivo maior que o limite de 5 KB."


def test_fetch_refuses_declared_oversize_before_reading(site):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/catalogo.pdf", timeout=1.5)
    assert reason(exc) == "Arquivo maior que o limite de 20 MB."


@pytest.mark.parametrize("url", ["ftp://example.com/a.pdf", "file:///etc/passwd", "javascript:alert(1)", "example.com"])
def test_fetch_refuses_non_http_schemes(url):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(url)
    assert "http://" in reason(exc)


def test_fetch_refuses_loopback_unless_allowed(site):
    """The test run allows loopback (EGRESS_ALLOW_PRIVATE_NETWORKS); with nothing allowed it is refused."""
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/blog/escova", allowance=egress.Allowance())
    assert "rede interna" in reason(exc)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.7/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a00:1]/",
    ],
)
def test_fetch_refuses_private_addresses(url):
    with pytest.raises(ExtractionError) as exc:
        fetch_url(url, timeout=2, allowance=egress.Allowance())
    assert "rede interna" in reason(exc)


def test_fetch_checks_every_redirect_hop(site):
    """A page that redirects to the cloud metadata address is refused at the second hop, even though
    loopback (the first hop) is allowed: metadata never is."""
    with pytest.raises(ExtractionError) as exc:
        fetch_url(f"{site}/promo", timeout=2)
    assert "rede interna" in reason(exc)


# ---------------------------------------------------------------------------------------------
# helpers


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(COMPANY / "politicas-e-procedimentos.pdf"))
    writer.encrypt(user_password=user_password, owner_password="dono-da-loja", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_with_text(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)  # a core font: Latin-1 is enough, no system font needed
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())
