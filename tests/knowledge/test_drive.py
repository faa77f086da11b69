"""Google Drive as a knowledge source, on the real test PostgreSQL, against a local Google that
speaks the OAuth and Drive v3 wire formats (tests/fakes/google_drive.py). The connect flow runs
through the real authlib client; documents stay queued (ingestion is tested elsewhere)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from db.engine import app_engine
from db.models import DriveConnection, KnowledgeBlob, KnowledgeDocument, Membership, Role, utcnow
from db.tenancy import tenant_session
from runtime.api import create_app
from runtime.auth import sessions
from runtime.auth.accounts import create_workspace
from runtime.auth.api_keys import create_api_key
from runtime.config import get_settings
from runtime.crypto import decrypt
from runtime.knowledge import drive
from runtime.knowledge.documents import add_document
from tests.fakes.google_drive import FORM, SHEET, SLIDES, FakeGoogleDrive
from tests.fakes.servers import free_port, serve_in_thread

CONNECT = "/integrations/google-drive/connect"


@pytest.fixture
def google(pg, monkeypatch) -> Iterator[FakeGoogleDrive]:
    port = free_port()
    fake = FakeGoogleDrive(
        client_id="cid.apps.googleusercontent.com",
        client_secret="csecret",
        user={"sub": f"g-{uuid.uuid4().hex}", "email": "dona.maria@example.com", "email_verified": True},
        base_url=f"http://127.0.0.1:{port}",
    )
    monkeypatch.setenv("GOOGLE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"{fake.base_url}/.well-known/openid-configuration")
    monkeypatch.setenv("GOOGLE_DRIVE_API_URL", str(fake.base_url))
    get_settings.cache_clear()
    with serve_in_thread(fake.app(), port):
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def ws(workspace) -> Iterator:
    """The workspace of the test; its queued jobs are removed afterwards (no worker runs here)."""
    new, _, _ = workspace
    yield new
    with app_engine().begin() as c:
        c.execute(
            text("DELETE FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE :w"),
            {"w": f"%{new.workspace_id}%"},
        )


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


def _sign_in(client: TestClient, user_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
    client.cookies.set("pv_session", sessions.create_session(user_id, workspace_id))


def _connect(client: TestClient, folder: str) -> httpx.Response:
    """Start the flow, let the fake Google consent, and come back to the callback."""
    start = client.get(f"{CONNECT}?folder={quote(folder)}", follow_redirects=False)
    if start.status_code != 302:
        return start
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert back.path == "/integrations/google-drive/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def _error_code(response: httpx.Response) -> str | None:
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/conhecimento"
    return (parse_qs(target.query).get("erro") or [None])[0]


def _connections(workspace_id: uuid.UUID) -> list[DriveConnection]:
    with tenant_session(workspace_id) as s:
        return list(s.exec(select(DriveConnection)).all())


def _docs(workspace_id: uuid.UUID) -> dict[str, KnowledgeDocument]:
    with tenant_session(workspace_id) as s:
        return {d.filename: d for d in s.exec(select(KnowledgeDocument)).all()}


def _blob(workspace_id: uuid.UUID, document_id: uuid.UUID) -> bytes | None:
    with tenant_session(workspace_id) as s:
        blob = s.get(KnowledgeBlob, document_id)
        return bytes(blob.data) if blob else None


def _queued(connection_id: uuid.UUID) -> list[dict]:
    """The connection's queued sync jobs: payload and the delay before they may run."""
    with app_engine().connect() as c:
        rows = c.execute(
            text(
                "SELECT id, convert_from(payload, 'UTF8') AS payload, execute_after - now() AS delay FROM pgqueuer "
                "WHERE entrypoint = :e AND status = 'queued' AND convert_from(payload, 'UTF8') LIKE :c ORDER BY id"
            ),
            {"e": drive.SYNC_JOB, "c": f"%{connection_id}%"},
        ).all()
    return [{"id": r.id, "payload": json.loads(r.payload), "delay": r.delay} for r in rows]


def _run_due_jobs(connection_id: uuid.UUID) -> list[drive.SyncReport | None]:
    """What the worker would do now: take the due sync jobs off the queue and run them."""
    due = [j for j in _queued(connection_id) if j["delay"] <= timedelta(seconds=1)]
    with app_engine().begin() as c:
        for j in due:
            c.execute(text("DELETE FROM pgqueuer WHERE id = :id"), {"id": j["id"]})
    return [drive.run_sync_job(j["payload"]) for j in due]


def _stored_connection(google: FakeGoogleDrive, ws, folder_id: str) -> DriveConnection:
    """A connection as the connect flow leaves it, without the browser round trip."""
    refresh = "1//" + uuid.uuid4().hex
    google.refresh_tokens[refresh] = False
    return drive.save_connection(
        ws.workspace_id,
        folder_id=folder_id,
        folder_name=google.items[folder_id].name,
        refresh_token=refresh,
        user_id=ws.user_id,
    )


def _base_folder(google: FakeGoogleDrive) -> dict[str, str]:
    root = google.add_folder("Base de conhecimento")
    sub = google.add_folder("Produtos", parent=root)
    return {
        "root": root,
        "precos": google.add_file("Tabela de preços.csv", "produto,preco\nCamiseta,49.90\n", "text/csv", root),
        "trocas": google.add_google_doc("Política de trocas", "Trocas em até 7 dias com nota fiscal.", root),
        "horarios": google.add_file("Horários.txt", "Seg a sex, 9h às 18h.", "text/plain", root),
        "estoque": google.add_google_doc("Estoque", "item,qtd\nCamiseta,12\n", root, mime_type=SHEET),
        "video": google.add_file("Apresentação da loja.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4", root),
        "form": google.add_google_doc("Pesquisa de satisfação", "", root, mime_type=FORM),
        "catalogo": google.add_file("Catálogo.md", "# Catálogo\n\nCamiseta básica.", "text/markdown", sub),
    }


# --- connect flow ----------------------------------------------------------------------------


def test_connect_flow_stores_encrypted_refresh_token_and_queues_first_sync(google, ws, client):
    files = _base_folder(google)
    _sign_in(client, ws.user_id, ws.workspace_id)
    done = _connect(client, f"https://drive.google.com/drive/u/0/folders/{files['root']}?usp=sharing")
    assert _error_code(done) is None and done.headers["location"] == "/conhecimento?drive=conectado"

    asked = google.authorize_requests[-1]
    assert set(asked["scope"].split()) == {"openid", "email", "https://www.googleapis.com/auth/drive.readonly"}
    assert asked["access_type"] == "offline" and asked["prompt"] == "consent"
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert google.token_requests[0]["code_verifier"]  # PKCE verifier sent with the code

    [conn] = _connections(ws.workspace_id)
    assert conn.folder_id == files["root"] and conn.folder_name == "Base de conhecimento"
    assert conn.account_email == "dona.maria@example.com" and conn.connected_by_user_id == ws.user_id
    [issued] = list(google.refresh_tokens)
    assert issued not in conn.refresh_token_encrypted and decrypt(conn.refresh_token_encrypted) == issued
    with tenant_session(ws.workspace_id) as s:  # not in clear anywhere in the row
        raw = s.execute(text("SELECT row_to_json(d)::text FROM drive_connection d WHERE id = :id"), {"id": conn.id})
        assert issued not in raw.scalar_one()

    [first] = _queued(conn.id)
    assert first["payload"] == {"workspace_id": str(ws.workspace_id), "connection_id": str(conn.id)}
    [report] = _run_due_jobs(conn.id)
    assert report.ok and len(report.added) == 5
    assert set(_docs(ws.workspace_id)) == {
        "Tabela de preços.csv",
        "Política de trocas.txt",
        "Horários.txt",
        "Estoque.csv",
        "Catálogo.md",
    }
    # The job scheduled the next link of the chain, an interval away.
    [following] = _queued(conn.id)
    assert following["payload"]["run_at"] and timedelta(minutes=55) < following["delay"] <= timedelta(minutes=60)


def test_seller_gets_403_and_anonymous_goes_to_login(google, ws, client):
    seller = create_workspace("Outra", f"vend-{uuid.uuid4().hex[:6]}@example.com", "senha-forte-123")
    with tenant_session(ws.workspace_id) as s:
        s.add(Membership(workspace_id=ws.workspace_id, user_id=seller.user_id, role=Role.seller))
        s.commit()
    anonymous = client.get(f"{CONNECT}?folder=1AbCdEfGhIjKlMnOp", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    _sign_in(client, seller.user_id, ws.workspace_id)
    assert client.get(f"{CONNECT}?folder=1AbCdEfGhIjKlMnOp", follow_redirects=False).status_code == 403
    assert client.get("/integrations/google-drive/callback?code=x&state=y").status_code == 403
    assert google.authorize_requests == [] and _connections(ws.workspace_id) == []


def test_no_refresh_token_is_a_clear_error(google, ws, client):
    folder = google.add_folder("Pasta")
    google.issue_refresh_token = False
    _sign_in(client, ws.user_id, ws.workspace_id)
    assert _error_code(_connect(client, folder)) == "drive_sem_refresh_token"
    assert "refresh token" in drive.CONNECT_ERRORS["drive_sem_refresh_token"]
    assert _connections(ws.workspace_id) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("link de arquivo", "drive_pasta_invalida"),
        ("pasta inexistente", "drive_pasta_nao_encontrada"),
        ("arquivo no lugar de pasta", "drive_nao_e_pasta"),
        ("consentimento negado", "drive_negado"),
        ("sem escopo do drive", "drive_sem_permissao"),
    ],
)
def test_connect_errors_redirect_with_a_code_never_500(google, ws, client, case, expected):
    folder = google.add_folder("Pasta")
    a_file = google.add_file("a.txt", "conteúdo", parent=folder)
    ref = {
        "link de arquivo": f"https://drive.google.com/file/d/{a_file}/view",
        "pasta inexistente": "1ZzZzZzZzZzZzZzZzZzZ",
        "arquivo no lugar de pasta": a_file,
    }.get(case, folder)
    google.deny_consent = case == "consentimento negado"
    if case == "sem escopo do drive":  # the user unticked the Drive box on the consent screen
        google.granted_scope = "openid https://www.googleapis.com/auth/userinfo.email"
    _sign_in(client, ws.user_id, ws.workspace_id)
    assert _error_code(_connect(client, ref)) == expected
    assert expected in drive.CONNECT_ERRORS
    assert _connections(ws.workspace_id) == []


def test_forged_state_and_google_disabled(google, ws, client, monkeypatch):
    folder = google.add_folder("Pasta")
    _sign_in(client, ws.user_id, ws.workspace_id)
    client.get(f"{CONNECT}?folder={folder}", follow_redirects=False)
    forged = client.get("/integrations/google-drive/callback?code=abc&state=forjado", follow_redirects=False)
    assert _error_code(forged) == "drive_falhou"
    monkeypatch.delenv("GOOGLE_CLIENT_SECRET")
    get_settings.cache_clear()
    assert _error_code(client.get(f"{CONNECT}?folder={folder}", follow_redirects=False)) == "drive_desativado"
    assert _connections(ws.workspace_id) == []


def test_reconnecting_a_folder_reauthorizes_the_same_connection(google, ws, client):
    folder = google.add_folder("Pasta")
    _sign_in(client, ws.user_id, ws.workspace_id)
    _connect(client, folder)
    [before] = _connections(ws.workspace_id)
    google.revoke_all()
    drive.sync_connection(ws.workspace_id, before.id)
    assert _connections(ws.workspace_id)[0].status == "needs_reauth"
    assert _error_code(_connect(client, folder)) is None
    [after] = _connections(ws.workspace_id)
    assert after.id == before.id and after.status == "active" and after.last_error is None
    assert decrypt(after.refresh_token_encrypted) == list(google.refresh_tokens)[-1]


def test_folder_links_are_parsed():
    fid = "1AbC-dEf_GhIjKlMnOpQrStUv"
    for ref in (
        fid,
        f"https://drive.google.com/drive/folders/{fid}",
        f"https://drive.google.com/drive/folders/{fid}?usp=sharing",
        f"https://drive.google.com/drive/u/1/folders/{fid}",
        f"drive.google.com/open?id={fid}",
        f"  https://drive.google.com/drive/mobile/folders/{fid}/  ",
    ):
        assert drive.parse_folder_ref(ref) == fid, ref
    for bad in (
        "",
        "pasta",
        f"https://evil.example.com/drive/folders/{fid}",
        "https://drive.google.com/drive/my-drive",
    ):
        assert drive.parse_folder_ref(bad) is None, bad


# --- sync --------------------------------------------------------------------------------


def test_first_sync_then_incremental_changes(google, ws):
    files = _base_folder(google)
    conn = _stored_connection(google, ws, files["root"])

    first = drive.sync_connection(ws.workspace_id, conn.id)
    assert first.ok and first.failed == [] and first.deleted == [] and first.updated == []
    assert sorted(first.added) == [
        "Estoque",
        "Horários.txt",
        "Política de trocas",
        "Produtos/Catálogo.md",  # sub-folders are synced too
        "Tabela de preços.csv",
    ]
    skipped = dict(first.skipped)
    assert "não suportado (.mp4)" in skipped["Apresentação da loja.mp4"]
    assert "Formulários" in skipped["Pesquisa de satisfação"]

    docs = _docs(ws.workspace_id)
    assert {d.source_type for d in docs.values()} == {"drive"} and {d.status for d in docs.values()} == {"queued"}
    assert {d.source_ref for d in docs.values()} == {str(conn.id)}
    assert docs["Horários.txt"].external_id == files["horarios"]
    assert docs["Horários.txt"].external_modified_at == google.items[files["horarios"]].modified_time
    assert docs["Política de trocas.txt"].title == "Política de trocas"
    assert docs["Catálogo.md"].title == "Catálogo"
    # Google Docs exported as text, Sheets as CSV; other files downloaded as they are.
    assert _blob(ws.workspace_id, docs["Política de trocas.txt"].id) == "Trocas em até 7 dias com nota fiscal.".encode()
    assert docs["Política de trocas.txt"].mime_type == "text/plain"
    assert _blob(ws.workspace_id, docs["Estoque.csv"].id) == b"item,qtd\nCamiseta,12\n"
    assert docs["Estoque.csv"].mime_type == "text/csv"
    assert _blob(ws.workspace_id, docs["Catálogo.md"].id) == "# Catálogo\n\nCamiseta básica.".encode()
    exports = {r["path"].split("/")[4]: r["query"]["mimeType"] for r in google.downloads() if "export" in r["path"]}
    assert exports == {files["trocas"]: "text/plain", files["estoque"]: "text/csv"}
    assert google.downloads(files["video"]) == [] and google.downloads(files["form"]) == []
    # Every Drive call carried an access token from the refresh grant, never the refresh token.
    assert {r["authorization"][:12] for r in google.requests} == {"Bearer ya29."}

    [c] = _connections(ws.workspace_id)
    assert c.status == "active" and c.files_synced == 5 and c.last_sync_at is not None and c.sync_started_at is None

    # One file changed, one deleted, one new, the rest untouched.
    horarios_id = docs["Horários.txt"].id
    google.modify(files["horarios"], "Seg a sáb, 9h às 20h.")
    google.remove(files["precos"])
    novidades = google.add_file("Novidades.txt", "Chegou a coleção de verão.", parent=files["root"])
    mark = len(google.requests)

    second = drive.sync_connection(ws.workspace_id, conn.id)
    assert second.ok
    assert second.added == ["Novidades.txt"]
    assert second.updated == ["Horários.txt"]
    assert second.deleted == ["Tabela de preços.csv"]
    assert sorted(second.unchanged) == ["Estoque", "Política de trocas", "Produtos/Catálogo.md"]
    assert second.failed == []
    downloaded = {r["path"].split("/")[4] for r in google.requests[mark:] if r in google.downloads()}
    assert downloaded == {files["horarios"], novidades}  # unchanged files are not fetched again

    docs = _docs(ws.workspace_id)
    assert "Tabela de preços.csv" not in docs
    assert docs["Horários.txt"].id == horarios_id  # replaced in place
    assert _blob(ws.workspace_id, horarios_id) == "Seg a sáb, 9h às 20h.".encode()
    assert docs["Horários.txt"].status == "queued"
    assert _connections(ws.workspace_id)[0].files_synced == 5

    third = drive.sync_connection(ws.workspace_id, conn.id)
    assert len(third.unchanged) == 5 and not (third.added or third.updated or third.deleted)


def test_pagination_follows_next_page_token(google, ws):
    root = google.add_folder("Muitos arquivos")
    for i in range(7):
        google.add_file(f"arquivo-{i}.txt", f"conteúdo número {i}", parent=root)
    google.page_size = 3
    conn = _stored_connection(google, ws, root)
    report = drive.sync_connection(ws.workspace_id, conn.id)
    assert len(report.added) == 7
    pages = google.list_requests()
    assert len(pages) == 3 and "pageToken" not in pages[0]["query"]
    assert all(p["query"].get("pageToken") for p in pages[1:])
    assert pages[0]["query"]["q"] == f"'{root}' in parents and trashed=false"
    assert pages[0]["query"]["fields"] == "nextPageToken,files(id,name,mimeType,modifiedTime,size,md5Checksum)"


def test_bad_files_are_reported_and_the_sync_goes_on(google, ws, monkeypatch):
    root = google.add_folder("Pasta")
    blocked = google.add_file("bloqueado.pdf", b"%PDF-1.4 ...", "application/pdf", root)
    google.fail[blocked] = (403, "cannotDownloadFile")
    google.add_file("vazio.txt", b"", parent=root)
    big = google.add_file("enorme.pdf", b"%PDF-1.4" + b"0" * 5000, "application/pdf", root)
    google.add_google_doc("Apresentação institucional", "Somos uma loja de bairro.", root, mime_type=SLIDES)
    google.add_file("ok.txt", "tudo certo", parent=root)
    monkeypatch.setenv("KNOWLEDGE_MAX_BYTES", "4096")
    get_settings.cache_clear()
    conn = _stored_connection(google, ws, root)
    report = drive.sync_connection(ws.workspace_id, conn.id)
    assert report.ok and sorted(report.added) == ["Apresentação institucional", "ok.txt"]
    failed = dict(report.failed)
    assert "não permite baixar" in failed["bloqueado.pdf"]
    assert failed["vazio.txt"] == "Arquivo vazio."
    assert "limite" in failed["enorme.pdf"] and google.downloads(big) == []  # size known: not downloaded
    [c] = _connections(ws.workspace_id)
    assert c.status == "active" and c.files_synced == 2 and "3 arquivo(s) não importado(s)" in c.last_error
    assert ["vazio.txt", "Arquivo vazio."] in drive.last_report(c)["failed"]
    docs = _docs(ws.workspace_id)
    assert _blob(ws.workspace_id, docs["Apresentação institucional.txt"].id) == b"Somos uma loja de bairro."


def test_revoked_refresh_token_marks_needs_reauth_and_keeps_documents(google, ws):
    root = google.add_folder("Pasta")
    google.add_file("a.txt", "primeiro", parent=root)
    conn = _stored_connection(google, ws, root)
    assert drive.sync_connection(ws.workspace_id, conn.id).added == ["a.txt"]
    google.revoke_all()
    report = drive.sync_connection(ws.workspace_id, conn.id)
    assert report.needs_reauth and report.error == drive.REAUTH_MESSAGE
    assert "Conecte a pasta de novo" in report.error
    [c] = _connections(ws.workspace_id)
    assert c.status == "needs_reauth" and c.last_error == drive.REAUTH_MESSAGE and c.sync_started_at is None
    assert set(_docs(ws.workspace_id)) == {"a.txt"}
    assert google.token_requests[-1]["grant_type"] == "refresh_token"


def test_deleted_folder_keeps_documents_and_reports_error(google, ws):
    root = google.add_folder("Pasta")
    google.add_file("a.txt", "primeiro", parent=root)
    conn = _stored_connection(google, ws, root)
    drive.sync_connection(ws.workspace_id, conn.id)
    google.trash(root)
    report = drive.sync_connection(ws.workspace_id, conn.id)
    assert report.error == drive.FOLDER_GONE_MESSAGE and report.deleted == []
    assert _connections(ws.workspace_id)[0].status == "error"
    assert set(_docs(ws.workspace_id)) == {"a.txt"}


def test_identical_content_is_stored_once_and_not_downloaded_again(google, ws):
    root = google.add_folder("Pasta")
    original = google.add_file("preços.txt", "Camiseta 49,90", parent=root)
    copy = google.add_file("preços (cópia).txt", "Camiseta 49,90", parent=root)
    conn = _stored_connection(google, ws, root)
    first = drive.sync_connection(ws.workspace_id, conn.id)
    assert first.added == ["preços (cópia).txt"]  # files come sorted by name
    assert "idêntico" in dict(first.skipped)["preços.txt"]
    mark = len(google.requests)
    second = drive.sync_connection(ws.workspace_id, conn.id)
    assert sorted(second.unchanged) == ["preços (cópia).txt", "preços.txt"]
    assert [r for r in google.requests[mark:] if r in google.downloads()] == []
    # The copy that holds the content goes away: the other file takes its place.
    google.remove(copy)
    third = drive.sync_connection(ws.workspace_id, conn.id)
    assert third.deleted == ["preços (cópia).txt"] and third.added == ["preços.txt"]
    assert _docs(ws.workspace_id)["preços.txt"].external_id == original
    # Only the date moved (same bytes): nothing to re-import, and the new date is remembered.
    google.modify(original, "Camiseta 49,90")
    assert drive.sync_connection(ws.workspace_id, conn.id).unchanged == ["preços.txt"]
    mark = len(google.requests)
    drive.sync_connection(ws.workspace_id, conn.id)
    assert [r for r in google.requests[mark:] if r in google.downloads()] == []


def test_a_running_sync_holds_a_lease(google, ws):
    root = google.add_folder("Pasta")
    conn = _stored_connection(google, ws, root)
    with tenant_session(ws.workspace_id) as s:
        s.get(DriveConnection, conn.id).sync_started_at = utcnow()
        s.commit()
    assert drive.sync_connection(ws.workspace_id, conn.id).error == drive.BUSY_MESSAGE
    assert google.requests == []


# --- the self-rescheduling job -------------------------------------------------------------


def test_sync_chain_has_one_live_link(google, ws):
    root = google.add_folder("Pasta")
    google.add_file("a.txt", "primeiro", parent=root)
    conn = _stored_connection(google, ws, root)
    [report] = _run_due_jobs(conn.id)  # the first sync, queued on connect
    assert report.added == ["a.txt"]
    [link] = _queued(conn.id)
    # An on-demand sync takes over the chain: the old link, when its time comes, does nothing.
    with tenant_session(ws.workspace_id) as s:
        drive.request_sync(s, s.get(DriveConnection, conn.id))
        s.commit()
    _run_due_jobs(conn.id)
    links = _queued(conn.id)
    assert len(links) == 2 and links[0]["id"] == link["id"]
    requests_before = len(google.requests)
    assert drive.run_sync_job(link["payload"]) is None
    assert len(google.requests) == requests_before
    assert len(_queued(conn.id)) == 2  # the stale link scheduled nothing
    # The live link runs and schedules the next one.
    live = links[1]["payload"]
    assert drive.run_sync_job(live).unchanged == ["a.txt"]
    [c] = _connections(ws.workspace_id)
    assert c.next_sync_at is not None and c.next_sync_at > utcnow() + timedelta(minutes=55)
    assert len(_queued(conn.id)) == 3
    # A revoked grant ends the chain (reconnecting starts a new one).
    google.revoke_all()
    newest = _queued(conn.id)[-1]["payload"]
    assert drive.run_sync_job(newest).needs_reauth
    assert drive.run_sync_job(_queued(conn.id)[-1]["payload"]) is None
    assert _connections(ws.workspace_id)[0].next_sync_at is None


def test_job_for_a_removed_connection_does_nothing(google, ws):
    root = google.add_folder("Pasta")
    conn = _stored_connection(google, ws, root)
    assert drive.remove_connection(ws.workspace_id, conn.id) == 0
    assert drive.remove_connection(ws.workspace_id, conn.id) is None
    assert drive.queue_sync(ws.workspace_id, conn.id) is False
    assert _run_due_jobs(conn.id) == [None]
    assert _queued(conn.id) == [] and google.requests == []


# --- REST ----------------------------------------------------------------------------------


def test_rest_list_sync_and_disconnect(google, ws, client, make_workspace):
    root = google.add_folder("Pasta da loja")
    google.add_file("a.txt", "primeiro", parent=root)
    google.add_file("b.txt", "segundo", parent=root)
    conn = _stored_connection(google, ws, root)
    _run_due_jobs(conn.id)
    h = {"Authorization": f"Bearer {create_api_key(ws.workspace_id, 'testes').key}"}

    listed = client.get("/api/v1/knowledge/drive", headers=h)
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == str(conn.id) and item["folder_name"] == "Pasta da loja"
    assert item["folder_url"] == f"https://drive.google.com/drive/folders/{root}"
    assert item["status"] == "active" and item["files_synced"] == 2 and item["syncing"] is False
    assert item["last_report"] == {"added": 2, "updated": 0, "deleted": 0, "unchanged": 0, "failed": [], "skipped": []}
    token = decrypt(_connections(ws.workspace_id)[0].refresh_token_encrypted)
    assert "refresh" not in listed.text and token not in listed.text

    assert client.get("/api/v1/knowledge/drive").status_code == 401
    queued_before = len(_queued(conn.id))
    sync = client.post(f"/api/v1/knowledge/drive/{conn.id}/sync", headers=h)
    assert sync.status_code == 202 and sync.json() == {"id": str(conn.id), "queued": True}
    assert len(_queued(conn.id)) == queued_before + 1

    # Another workspace's key sees nothing and can touch nothing.
    other = make_workspace("Concorrente")
    ho = {"Authorization": f"Bearer {create_api_key(other.workspace_id, 'intruso').key}"}
    assert client.get("/api/v1/knowledge/drive", headers=ho).json() == []
    assert client.post(f"/api/v1/knowledge/drive/{conn.id}/sync", headers=ho).status_code == 404
    assert client.delete(f"/api/v1/knowledge/drive/{conn.id}", headers=ho).status_code == 404
    assert len(_queued(conn.id)) == queued_before + 1 and len(_docs(ws.workspace_id)) == 2

    doc_ids = [d.id for d in _docs(ws.workspace_id).values()]
    with tenant_session(ws.workspace_id) as s:  # an upload must survive the disconnect
        add_document(s, ws.workspace_id, filename="manual.txt", data=b"enviado a mao")
        s.commit()
    gone = client.delete(f"/api/v1/knowledge/drive/{conn.id}", headers=h)
    assert gone.status_code == 204
    assert _connections(ws.workspace_id) == [] and set(_docs(ws.workspace_id)) == {"manual.txt"}
    assert all(_blob(ws.workspace_id, d) is None for d in doc_ids)
    assert client.delete(f"/api/v1/knowledge/drive/{conn.id}", headers=h).status_code == 404
    assert client.post(f"/api/v1/knowledge/drive/{conn.id}/sync", headers=h).status_code == 404


def test_callback_for_another_signed_in_user_is_refused(google, ws, client):
    folder = google.add_folder("Pasta")
    _sign_in(client, ws.user_id, ws.workspace_id)
    start = client.get(f"{CONNECT}?folder={folder}", follow_redirects=False)
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    other = create_workspace("Outra loja", f"o-{uuid.uuid4().hex[:6]}@example.com", "senha-forte-123")
    _sign_in(client, other.user_id, other.workspace_id)  # the browser changed hands meanwhile
    back = urlsplit(consent.headers["location"])
    assert _error_code(client.get(f"{back.path}?{back.query}", follow_redirects=False)) == "drive_sessao"
    assert _connections(ws.workspace_id) == [] and _connections(other.workspace_id) == []


def test_google_unreachable_is_a_clear_error(ws, client, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "secret")
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration")
    get_settings.cache_clear()
    try:
        _sign_in(client, ws.user_id, ws.workspace_id)
        r = client.get(f"{CONNECT}?folder=1AbCdEfGhIjKlMnOpQr", follow_redirects=False)
    finally:
        get_settings.cache_clear()
    assert _error_code(r) == "drive_indisponivel"


def test_names_with_nul_are_stored_without_it(google, ws):
    """PostgreSQL refuses NUL in text: a Drive file or folder named with one still syncs."""
    root = google.add_folder("Base\x00 de conhecimento")
    google.add_file("Tabela\x00 de preços.csv", "produto,preco\nCamiseta,49.90\n", "text/csv", root)
    conn = _stored_connection(google, ws, root)
    report = drive.sync_connection(ws.workspace_id, conn.id)
    assert report.ok and report.failed == [] and report.added == ["Tabela de preços.csv"]
    doc = _docs(ws.workspace_id)["Tabela de preços.csv"]
    assert doc.title == "Tabela de preços"
    assert [c.folder_name for c in _connections(ws.workspace_id)] == ["Base de conhecimento"]
