"""`python -m runtime eval retrieval`: how often the right document comes back for real questions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from db.tenancy import tenant_session
from runtime.scratch import drop_workspace, scratch_workspace

from .documents import add_document, ingest_document
from .embeddings import get_embedder
from .search import search


@dataclass
class EvalReport:
    questions: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    documents: int
    failed_documents: list[str]
    misses: list[dict]

    def as_dict(self) -> dict:
        return self.__dict__


def ingest_folder(workspace_id: uuid.UUID, folder: Path) -> tuple[int, list[str]]:
    """Add every file of the folder and ingest it now (no worker needed)."""
    ids, failed = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        with tenant_session(workspace_id) as s:
            added = add_document(s, workspace_id, filename=path.name, data=path.read_bytes())
            s.commit()
            ids.append((path.name, added.document.id))
    for name, document_id in ids:
        if ingest_document(workspace_id, document_id) != "ready":
            failed.append(name)
    return len(ids), failed


def evaluate_retrieval(docs: Path, dataset: Path, k: int = 5) -> EvalReport:
    cases = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    workspace_id = scratch_workspace("eval")
    try:
        count, failed = ingest_folder(workspace_id, docs)
        embedder = get_embedder()
        hits1 = hits5 = 0
        rr = 0.0
        misses = []
        with tenant_session(workspace_id) as s:
            for case in cases:
                expected = set(case["expected_sources"])
                found = [h.filename for h in search(s, case["question"], k=max(k, 5), embedder=embedder)]
                rank = next((i for i, name in enumerate(found, start=1) if name in expected), None)
                if rank == 1:
                    hits1 += 1
                if rank is not None and rank <= 5:
                    hits5 += 1
                    rr += 1.0 / rank
                if rank != 1:
                    misses.append({"question": case["question"], "expected": sorted(expected), "got": found[:3]})
        n = len(cases) or 1
        return EvalReport(
            questions=len(cases),
            hit_at_1=round(hits1 / n, 3),
            hit_at_5=round(hits5 / n, 3),
            mrr=round(rr / n, 3),
            documents=count,
            failed_documents=failed,
            misses=misses,
        )
    finally:
        drop_workspace(workspace_id)
