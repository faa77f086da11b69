"""`python -m runtime bench knowledge`: ingestion throughput (pages/s) and hybrid search latency at
scale (200k chunks across 100 workspaces), in a scratch database that is dropped afterwards."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db import migrate
from db.embedded import DatabaseUrls
from db.engine import database_urls, set_database_urls
from db.tenancy import tenant_session

WORDS = [
    "preço",
    "valor",
    "consulta",
    "limpeza",
    "clareamento",
    "ortodontia",
    "aparelho",
    "implante",
    "canal",
    "restauração",
    "avaliação",
    "horário",
    "atendimento",
    "sábado",
    "domingo",
    "feriado",
    "endereço",
    "estacionamento",
    "convênio",
    "plano",
    "unimed",
    "amil",
    "pagamento",
    "parcelamento",
    "cartão",
    "pix",
    "boleto",
    "desconto",
    "promoção",
    "garantia",
    "retorno",
    "agendamento",
    "cancelamento",
    "entrega",
    "frete",
    "prazo",
    "produto",
    "serviço",
    "orçamento",
    "sofá",
    "mesa",
    "cadeira",
    "colchão",
    "armário",
    "cozinha",
    "madeira",
    "tecido",
    "cor",
    "tamanho",
    "modelo",
    "estoque",
    "troca",
    "devolução",
    "nota",
    "fiscal",
    "contrato",
    "matrícula",
    "mensalidade",
    "curso",
]


@dataclass
class _Scratch:
    name: str
    urls: DatabaseUrls


def _scratch_db() -> _Scratch:
    base = database_urls()
    name = f"piloto_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(base.admin)
    with psycopg.connect(
        admin.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return _Scratch(
        name,
        DatabaseUrls(
            admin=admin.set(database=name).render_as_string(hide_password=False),
            app=make_url(base.app).set(database=name).render_as_string(hide_password=False),
        ),
    )


def _drop(scratch: _Scratch, original: DatabaseUrls) -> None:
    set_database_urls(original)
    admin = make_url(original.admin).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{scratch.name}" WITH (FORCE)')


def _sample_pdf(pages: int) -> bytes:
    try:
        from fpdf import FPDF
    except ImportError as exc:  # a dev dependency (requirements-dev.txt)
        raise SystemExit("bench knowledge needs fpdf2 (pip install -r requirements-dev.txt)") from exc
    import glob

    fonts = glob.glob("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf = FPDF()
    if fonts:
        pdf.add_font("dv", fname=fonts[0])
        pdf.set_font("dv", size=11)
    else:
        pdf.set_font("helvetica", size=11)
    rng = random.Random(7)
    for page in range(pages):
        pdf.add_page()
        for para in range(6):
            sentence = " ".join(rng.choice(WORDS) for _ in range(60))
            line = f"Seção {page + 1}.{para + 1}: {sentence}."
            body = line if fonts else line.encode("latin-1", "replace").decode("latin-1")
            pdf.multi_cell(w=pdf.epw, h=6, text=body, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def bench_ingest(pages: int, embedder: object) -> dict:
    from runtime.scratch import drop_workspace, scratch_workspace

    from .documents import add_document, ingest_document

    data = _sample_pdf(pages)
    ws = scratch_workspace()
    try:
        with tenant_session(ws) as s:
            doc_id = add_document(s, ws, filename="catalogo.pdf", data=data).document.id
            s.commit()
        t0 = time.perf_counter()
        status = ingest_document(ws, doc_id, embedder=embedder)
        elapsed = time.perf_counter() - t0
        with tenant_session(ws) as s:
            chunks = s.execute(text("SELECT count(*) FROM knowledge_chunk")).scalar()
    finally:
        drop_workspace(ws)
    return {
        "status": status,
        "pages": pages,
        "chunks": chunks,
        "seconds": round(elapsed, 2),
        "pages_per_s": round(pages / elapsed, 1),
        "embedder": getattr(embedder, "model_id", None),
    }


def _load_chunks(
    urls: DatabaseUrls, workspaces: int, per_workspace: int, dim: int
) -> tuple[list[uuid.UUID], float, float]:
    """Synthetic chunks generated inside PostgreSQL (as the owner), then the HNSW index is built."""
    ids = [uuid.uuid4() for _ in range(workspaces)]
    admin = make_url(urls.admin).set(drivername="postgresql").render_as_string(hide_password=False)
    t0 = time.perf_counter()
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"DROP INDEX IF EXISTS ix_knowledge_chunk_hnsw_{dim}")
        for ws in ids:
            doc = uuid.uuid4()
            c.execute("INSERT INTO workspace (id, name, timezone) VALUES (%s, 'bench', 'America/Sao_Paulo')", (ws,))
            c.execute(
                "INSERT INTO knowledge_document (id, workspace_id, source_type, title, filename, size_bytes, "
                "content_hash, status, progress, pages, chunk_count, created_at, updated_at) "
                "VALUES (%s, %s, 'upload', 'Catálogo', 'catalogo.pdf', 0, %s, 'ready', 100, 1, %s, now(), now())",
                (doc, ws, uuid.uuid4().hex, per_workspace),
            )
            c.execute(
                f"""
                INSERT INTO knowledge_chunk (workspace_id, document_id, ord, title, page, content,
                                             embedding, embedding_dim, embedding_model)
                SELECT %s, %s, g, 'Catálogo', g / 10,
                       (SELECT string_agg(w[1 + floor(random() * array_length(w, 1))::int + 0 * i], ' ')
                        FROM generate_series(1, 90 + g %% 3) AS t(i)),
                       (SELECT array_agg(random() - 0.5 + 0 * x)::vector
                        FROM generate_series(1, {dim}) AS d(x) WHERE g > 0),
                       {dim}, 'bench:random:{dim}'
                FROM generate_series(1, %s) AS g, (SELECT %s::text[] AS w) vocab
                """,
                (ws, doc, per_workspace, WORDS),
            )
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        c.execute("SET maintenance_work_mem = '1GB'")
        c.execute("SET max_parallel_maintenance_workers = 2")
        c.execute(
            f"CREATE INDEX ix_knowledge_chunk_hnsw_{dim} ON knowledge_chunk "
            f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) WHERE embedding_dim = {dim}"
        )
        c.execute("ANALYZE knowledge_chunk")
        index_s = time.perf_counter() - t1
    return ids, load_s, index_s


class _RandomQueryEmbedder:
    """Stands in for the query embedding call (a network call to the provider in production, not
    what this measures): a random unit vector of the loaded dimension."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.model_id = f"bench:random:{dim}"
        self._rng = random.Random(11)

    def embed_query(self, _: str) -> list[float]:
        v = [self._rng.random() - 0.5 for _ in range(self.dim)]
        norm = sum(x * x for x in v) ** 0.5
        return [x / norm for x in v]


def _timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return round(statistics.median(samples), 2), round(samples[int(0.95 * (n - 1))], 2)


def bench_search(workspaces: int, per_workspace: int, queries: int, dim: int = 384) -> dict:
    from .search import search

    original = database_urls()
    scratch = _scratch_db()
    try:
        set_database_urls(scratch.urls)
        migrate.upgrade()
        ids, load_s, index_s = _load_chunks(scratch.urls, workspaces, per_workspace, dim)
        rng = random.Random(3)
        embedder = _RandomQueryEmbedder(dim)
        questions = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))) for _ in range(64)]

        def run(with_vectors: bool) -> Callable[[], object]:
            def one() -> object:
                ws = rng.choice(ids)
                with tenant_session(ws) as s:
                    hits = search(s, rng.choice(questions), k=5, embedder=embedder if with_vectors else None)
                    assert hits, "a benchmark query found nothing"
                    return hits

            return one

        run(True)()  # warm the pool and caches
        fts = _timed(run(False), queries)
        hybrid = _timed(run(True), queries)
        return {
            "chunks": workspaces * per_workspace,
            "workspaces": workspaces,
            "dim": dim,
            "load_s": round(load_s, 1),
            "hnsw_build_s": round(index_s, 1),
            "queries": queries,
            "fulltext_p50_ms": fts[0],
            "fulltext_p95_ms": fts[1],
            "hybrid_p50_ms": hybrid[0],
            "hybrid_p95_ms": hybrid[1],
        }
    finally:
        _drop(scratch, original)
