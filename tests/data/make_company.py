"""Generate the sample company "Clínica Sorriso Feliz" (a fictional dental clinic in Campinas-SP).

Six files, one per format, each holding facts found in no other file, so that every question in
`questions.jsonl` has one clear expected source:

- politicas-e-procedimentos.pdf  procedures, biosafety, scheduling/lateness/cancellation, payment
                                 (Pix discount, installments, boleto), invoices, quotes, warranty
- perguntas-frequentes.docx      FAQ: whitening aftercare, braces upkeep, first visit, children, pregnancy
- tabela-de-precos.xlsx          prices and durations (sheets "Tratamentos" and "Produtos")
- horarios.png                   opening hours (Saturday!), emergency on-call hours and fee
- sobre-nos.md                   history, team, address, how to get there, parking, accessibility, contact
- convenios.csv                  dental plans accepted or not (";"-separated, as Excel in pt-BR saves)

Run: .venv/bin/python tests/data/make_company.py  (dev dependencies: fpdf2, python-docx, openpyxl, pillow)
The outputs are committed; re-run only when the content changes.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

OUT = Path(__file__).resolve().parent / "company"
COMPANY = "Clínica Sorriso Feliz"
FIXED_DATE = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts/TTF")]


def font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"font {name} not found (apt install fonts-dejavu-core)")


def fix_zip_timestamps(path: Path) -> None:
    """DOCX/XLSX are ZIPs stamped with the current time: rewrite them with a fixed one, so that
    re-running the generator gives the same bytes (and no spurious diff)."""
    import re
    import zipfile

    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, blob in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with now()
                blob = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, blob)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, blob)


# ---------------------------------------------------------------------------------------------
# PDF: procedures and policies (4 pages, real text layer)

PDF_PAGES: list[tuple[str, list[str]]] = [
    (
        "Nossos procedimentos",
        [
            "Limpeza (profilaxia): remoção de tártaro e placa bacteriana com ultrassom, polimento e orientação "
            "de escovação. Recomendamos uma limpeza a cada seis meses.",
            "Clareamento dental: realizado no consultório com gel de peróxido de hidrogênio e luz LED, ou em casa "
            "com moldeiras feitas sob medida. Antes de clarear, o dentista avalia a saúde da gengiva e do esmalte.",
            "Tratamento de canal (endodontia): feito com localizador apical e instrumentos rotatórios, "
            "o que torna o procedimento mais rápido e confortável.",
            "Implantes: pinos de titânio instalados com cirurgia guiada por tomografia; a coroa definitiva "
            "é colocada após a cicatrização do osso.",
            "Ortodontia: aparelhos fixos metálicos, estéticos de porcelana e alinhadores transparentes.",
            "Biossegurança: todos os instrumentos são esteriliza-\ndos em autoclave com controle biológico semanal, "
            "e os materiais descartáveis são de uso único.",
        ],
    ),
    (
        "Agendamento, atrasos e cancelamentos",
        [
            "As consultas são marcadas pelo WhatsApp ou pela recepção. Enviamos uma confirmação na véspera.",
            "Tolerância de atraso: esperamos até 15 minutos. Depois disso, a consulta poderá ser remarcada "
            "para não atrasar os próximos pacientes.",
            "Cancelamento: pedimos aviso com pelo menos 24 horas de antecedência. Faltas sem aviso "
            "geram cobrança de 50% do valor da consulta agendada.",
            "Menores de 18 anos só são atendidos acompanhados de pai, mãe ou responsável legal.",
        ],
    ),
    (
        "Formas de pagamento",
        [
            "Pix: 5% de desconto para pagamento à vista.",
            "Cartão de crédito: parcelamos em até 10 vezes sem juros, com parcela mínima de R$ 100,00. "
            "Aceitamos Visa, Mastercard, Elo e American Express.",
            "Cartão de débito: aceito em todas as bandeiras.",
            "Boleto bancário: disponível apenas para tratamentos ortodônticos, com vencimento mensal.",
            "Não aceitamos cheque.",
            "Emitimos nota fiscal de todos os serviços. O orçamento entregue ao paciente é válido por 30 dias.",
        ],
    ),
    (
        "Garantia e retornos",
        [
            "Restaurações e próteses têm retorno gratuito para ajustes em até 30 dias após o procedimento.",
            "Implantes têm garantia de 5 anos, desde que o paciente faça a manutenção anual na clínica.",
            "Em caso de dor ou desconforto após qualquer procedimento, fale com a recepção para antecipar "
            "o seu retorno.",
        ],
    ),
]


def make_pdf(path: Path) -> None:
    from fpdf import FPDF

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("DejaVu", size=9)
            self.cell(0, 10, f"{COMPANY} — página {self.page_no()} de {{nb}}", align="C")

    pdf = Doc(format="A4")
    pdf.add_font("DejaVu", "", str(font("DejaVuSans.ttf")))
    pdf.add_font("DejaVu", "B", str(font("DejaVuSans-Bold.ttf")))
    pdf.set_title(f"Políticas e Procedimentos — {COMPANY}")
    pdf.set_author(COMPANY)
    pdf.set_creator("make_company.py")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(20, 20, 20)
    for heading, paragraphs in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 16)
        pdf.multi_cell(0, 10, heading)
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6.5, paragraph)
            pdf.ln(3)
    pdf.output(str(path))


# ---------------------------------------------------------------------------------------------
# DOCX: FAQ with headings and a table

DOCX_CONTENT: list[tuple[int, str, list[str]]] = [
    (
        1,
        "Clareamento dental",
        [],
    ),
    (
        2,
        "O clareamento estraga o esmalte?",
        [
            "Não. Feito com acompanhamento do dentista, o clareamento não desgasta nem enfraquece o esmalte. "
            "É comum sentir sensibilidade leve por até 3 dias.",
        ],
    ),
    (
        2,
        "Cuidados após o clareamento",
        [
            "Nas primeiras 48 horas siga a dieta branca: evite café, chá preto, vinho tinto, refrigerante de cola, "
            "açaí, beterraba, molho de tomate e cigarro.",
            "Use creme dental para dentes sensíveis e prefira alimentos claros, como arroz, frango, peixe, "
            "leite e iogurte natural.",
        ],
    ),
    (1, "Aparelho ortodôntico", []),
    (
        2,
        "De quanto em quanto tempo é a manutenção?",
        ["A manutenção do aparelho fixo é feita a cada 30 dias. Faltar nas manutenções atrasa o tratamento."],
    ),
    (
        2,
        "O que fazer se o bráquete soltar?",
        [
            "Guarde a peça, cubra a ponta que machuca com cera ortodôntica e mande uma mensagem para marcarmos "
            "um encaixe. Não tente colar o bráquete em casa.",
        ],
    ),
    (1, "Primeira consulta", ["Leve os itens abaixo no dia da sua primeira consulta:"]),
    (1, "Crianças", []),
    (
        2,
        "Com que idade levar ao dentista?",
        [
            "A primeira visita deve acontecer quando nasce o primeiro dentinho, ou até o bebê completar 1 ano. "
            "A odontopediatra usa linguagem lúdica para a criança perder o medo.",
        ],
    ),
    (1, "Gestantes", []),
    (
        2,
        "Grávida pode tratar os dentes?",
        [
            "Pode e deve. O período mais indicado para tratamentos eletivos é o segundo trimestre da gestação; "
            "usamos anestésico seguro para gestantes e avental de chumbo nas radiografias.",
        ],
    ),
]

DOCX_TABLE = [
    ("Documento", "Quando levar"),
    ("RG ou CNH", "Sempre"),
    ("Carteirinha do convênio", "Atendimento pelo plano"),
    ("Radiografias e exames antigos", "Se tiver"),
    ("Lista de medicamentos em uso", "Se usar algum remédio"),
]


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = f"Perguntas Frequentes — {COMPANY}"
    document.core_properties.author = COMPANY
    document.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    document.core_properties.last_modified_by = COMPANY
    document.add_paragraph(f"Respostas às dúvidas mais comuns dos pacientes da {COMPANY}.")
    for level, heading, paragraphs in DOCX_CONTENT:
        document.add_heading(heading, level=level)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        if heading == "Primeira consulta":
            table = document.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for row in DOCX_TABLE:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = row
    document.save(str(path))
    fix_zip_timestamps(path)


# ---------------------------------------------------------------------------------------------
# XLSX: price list (two sheets)

TREATMENTS = [
    ("Serviço", "Preço", "Duração", "Observações"),
    ("Consulta de avaliação", 120, "40 min", "Inclui radiografia panorâmica digital"),
    ("Limpeza (profilaxia)", 180, "50 min", "Inclui aplicação de flúor"),
    ("Clareamento a laser (consultório)", 890, "3 sessões de 1 h", None),
    ("Clareamento caseiro com moldeira", 650, "2 consultas", "Inclui 3 seringas de gel"),
    ("Restauração em resina", 220, "1 h", "Preço por dente"),
    ("Tratamento de canal (molar)", 1200, "2 a 3 sessões", None),
    ("Tratamento de canal (incisivo)", 850, "1 a 2 sessões", None),
    ("Extração simples", 280, "40 min", None),
    ("Extração de siso", 550, "1 h", "Preço por dente"),
    ("Implante dentário com coroa", 3800, "3 a 6 meses", "Cirurgia guiada por tomografia"),
    ("Aparelho fixo metálico (instalação)", 450, "1 h 30", None),
    ("Manutenção do aparelho", 150, "20 min", None),
    ("Alinhador transparente (tratamento completo)", 8900, "12 a 18 meses", None),
    ("Faceta de porcelana", 1900, "2 sessões", "Preço por dente"),
]

PRODUCTS = [
    ("Produto", "Preço", "Observações"),
    ("Refil de gel clareador (3 seringas)", 120, "Para quem já tem a moldeira"),
    ("Escova interdental", 25, None),
    ("Cera ortodôntica", 15, None),
    ("Enxaguante bucal sem álcool", 38.9, "500 ml"),
]


def make_xlsx(path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    workbook.properties.creator = COMPANY
    workbook.properties.created = FIXED_DATE.replace(tzinfo=None)
    workbook.properties.modified = FIXED_DATE.replace(tzinfo=None)
    for index, (title, rows) in enumerate((("Tratamentos", TREATMENTS), ("Produtos", PRODUCTS))):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
            cell.number_format = '"R$" #,##0.00'
        sheet.column_dimensions["A"].width = 44
        sheet.column_dimensions["B"].width = 14
        sheet.column_dimensions["C"].width = 18
        sheet.column_dimensions["D"].width = 40
    workbook.save(str(path))
    fix_zip_timestamps(path)


# ---------------------------------------------------------------------------------------------
# PNG: opening hours, as a clinic would post on Instagram

PNG_LINES = [
    ("bold", "Horário de atendimento"),
    ("regular", "Segunda a sexta: 8h às 19h"),
    ("regular", "Sábado: 8h às 13h"),
    ("regular", "Domingos e feriados: fechado"),
    ("gap", ""),
    ("bold", "Plantão de urgência"),
    ("regular", "Domingos e feriados: 9h às 12h"),
    ("regular", "Taxa do plantão: R$ 250,00"),
]


def make_png(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    regular = ImageFont.truetype(str(font("DejaVuSans.ttf")), 34)
    bold = ImageFont.truetype(str(font("DejaVuSans-Bold.ttf")), 40)
    image = Image.new("L", (820, 560), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 809, 549), outline=120, width=3)
    y = 40
    for style, text in PNG_LINES:
        if style == "gap":
            y += 24
            continue
        face = bold if style == "bold" else regular
        draw.text((50, y), text, fill=0, font=face)
        y += 60 if style == "bold" else 52
    image.save(str(path), optimize=True)


# ---------------------------------------------------------------------------------------------
# Markdown: about us, address, directions, parking

ABOUT_MD = """\
# Sobre a Clínica Sorriso Feliz

A Clínica Sorriso Feliz foi fundada em 2009 pela Dra. Helena Martins (CRO-SP 84.512), especialista em
implantodontia. Hoje a equipe tem seis dentistas, entre eles o Dr. Rafael Tanaka (ortodontia) e a
Dra. Júlia Andrade (odontopediatria), além de duas auxiliares e uma recepcionista.

## Endereço

Rua das Acácias, 482 — Cambuí, Campinas-SP, CEP 13025-050. Ficamos no 1º andar do Edifício Ipê,
ao lado da padaria Pão Dourado.

## Como chegar

- De ônibus: as linhas 3.33 e 3.35 param em frente ao prédio (ponto Acácias/Coronel Quirino).
- A pé: 5 minutos do Shopping Parque das Flores.
- De carro: pela Rodovia Anhanguera, pegue a saída 90 e siga as placas para o Cambuí.

## Estacionamento

Temos convênio com o estacionamento Park Center, na Rua das Acácias, 510: as 2 primeiras horas são
gratuitas com o carimbo da recepção. Há uma vaga para idosos e pessoas com deficiência em frente à
clínica e um bicicletário no térreo.

## Acessibilidade

O prédio tem elevador e rampa de acesso, e a clínica tem banheiro adaptado para cadeirantes.

## Contato

- WhatsApp: (19) 99876-5432
- E-mail: contato@sorrisofelizcampinas.com.br
- Instagram: @sorrisofelizcampinas
"""


def make_md(path: Path) -> None:
    path.write_text(ABOUT_MD, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# CSV: dental plans

PLANS = [
    ("Convênio", "Situação", "Cobertura na clínica", "Observações"),
    ("Amil Dental", "Aceito", "Consultas, limpeza, restaurações e canal", "Levar carteirinha e documento com foto"),
    ("Bradesco Dental", "Aceito", "Consultas, limpeza, extrações e ortodontia", "Ortodontia só no plano Top"),
    ("OdontoPrev", "Aceito", "Consultas, limpeza, restaurações e extrações", "Canal precisa de autorização prévia"),
    ("SulAmérica Odonto", "Aceito", "Consultas, limpeza, restaurações e canal", "Sem carência para urgências"),
    ("Porto Seguro Odonto", "Aceito", "Consultas, limpeza e restaurações", None),
    ("MetLife Odonto", "Aceito", "Consultas e limpeza", "Demais procedimentos por reembolso"),
    ("Unimed Odonto", "Não aceito", None, "Fornecemos recibo para o paciente pedir reembolso"),
    ("Hapvida Odonto", "Não aceito", None, None),
]


def make_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        for row in PLANS:
            writer.writerow(["" if value is None else value for value in row])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    make_pdf(OUT / "politicas-e-procedimentos.pdf")
    make_docx(OUT / "perguntas-frequentes.docx")
    make_xlsx(OUT / "tabela-de-precos.xlsx")
    make_png(OUT / "horarios.png")
    make_md(OUT / "sobre-nos.md")
    make_csv(OUT / "convenios.csv")
    for file in sorted(OUT.iterdir()):
        print(f"{file.stat().st_size:>8}  {file.relative_to(OUT.parent.parent.parent)}")


if __name__ == "__main__":
    main()
