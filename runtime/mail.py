"""Outgoing e-mail over SMTP (invitations, password links, e-mail confirmations), with retries and
errors fit to show an owner.

SMTP_URL names the server, the security and the login in one setting:

* ``smtp+starttls://user:password@smtp.example.com:587`` -- STARTTLS required (most providers);
* ``smtps://user:password@smtp.example.com:465`` -- TLS from the first byte;
* ``smtp://localhost:25`` -- plain, for a relay on the same machine or network.

User and password are URL-encoded (``@`` in a user name is ``%40``). Unset = no e-mail: the panel
shows the links for the inviter to send. Temporary failures (connection refused or dropped, a
timeout, a 4xx answer) are retried with backoff; a 5xx answer (bad login, recipient refused) is
not. The password never appears in errors or logs.
"""

from __future__ import annotations

import html
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from tenacity import RetryCallState

from runtime.config import Settings, get_settings
from runtime.provider_errors import provider_retrying

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(RuntimeError):
    """A message that could not be sent; the text is safe to show and to log."""


class MailNotConfigured(MailError):
    pass


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @property
    def label(self) -> str:
        """Where it sends, without the login (for the Status page and errors)."""
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise MailError("SMTP_URL inválida: use smtp+starttls://usuário:senha@servidor:587") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise MailError(f"SMTP_URL: esquema {scheme or '(nenhum)'!r} desconhecido; use smtp+starttls, smtps ou smtp")
    if not parts.hostname:
        raise MailError("SMTP_URL sem servidor: use smtp+starttls://usuário:senha@servidor:587")
    return SmtpServer(
        scheme=scheme,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def configured_server(settings: Settings | None = None) -> SmtpServer | None:
    """The SMTP server of the settings, or None when e-mail is off (SMTP_URL unset)."""
    settings = settings or get_settings()
    if not mail_enabled(settings):
        return None
    return parse_smtp_url(settings.smtp_url.get_secret_value())


def mail_enabled(settings: Settings | None = None) -> bool:
    """SMTP_URL is set. A malformed one still counts: each e-mail then fails with the reason where
    the owner sees it (Equipe, Configurações), rather than invitations silently not being sent."""
    settings = settings or get_settings()
    return settings.smtp_url is not None and bool(settings.smtp_url.get_secret_value().strip())


def link_email_html(paragraphs_html: str, button: str, link: str, footnote: str) -> str:
    """The HTML of a short e-mail around one link (an invitation, a new password): the paragraphs
    (already HTML), a button to the link, the link to copy and a small-print footnote (plain text)."""
    e = html.escape
    return (
        '<!doctype html><html lang="pt-BR"><body style="font-family:Arial,sans-serif;color:#1f2937">'
        f"{paragraphs_html}"
        f'<p><a href="{e(link)}" style="display:inline-block;padding:10px 18px;background:#16a34a;'
        f'color:#fff;border-radius:6px;text-decoration:none">{e(button)}</a></p>'
        f'<p style="font-size:13px;color:#6b7280">Ou copie este link: {e(link)}<br>{e(footnote)}</p></body></html>'
    )


def build_message(to: str, subject: str, text: str, html: str | None = None, *, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=(parseaddr(sender)[1].rpartition("@")[2] or None))
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError))


def _describe(exc: BaseException, server: SmtpServer) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"o servidor {server.label} recusou o usuário ou a senha (SMTP {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(exc.recipients.values()))
        return f"o servidor recusou o destinatário (SMTP {code} {_answer(answer)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"o servidor recusou o remetente MAIL_FROM (SMTP {exc.smtp_code} {_answer(exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"o servidor {server.label} respondeu SMTP {exc.smtp_code} {_answer(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"o servidor {server.label} não oferece STARTTLS; use smtps:// ou smtp://"
    if isinstance(exc, ssl.SSLError):
        return f"falha de TLS com {server.label} ({exc.reason or type(exc).__name__})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"o servidor {server.label} não respondeu a tempo"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"o servidor {server.label} fechou a conexão"
    if isinstance(exc, OSError):
        return f"não foi possível conectar a {server.label} ({exc.strerror or type(exc).__name__})"
    return f"{type(exc).__name__} ao enviar por {server.label}"


def _answer(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]


def _send_once(server: SmtpServer, msg: EmailMessage, timeout: float) -> None:
    context = ssl.create_default_context()
    if server.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        client.ehlo()
        if server.scheme == "smtp+starttls":
            client.starttls(context=context)
            client.ehlo()
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(msg)


def send(
    to: str, subject: str, text: str, html: str | None = None, *, settings: Settings | None = None
) -> EmailMessage:
    """Send one message (retrying temporary failures); returns it as sent. Raises MailError."""
    settings = settings or get_settings()
    server = configured_server(settings)
    if server is None:
        raise MailNotConfigured("o envio de e-mail não está configurado (SMTP_URL)")
    msg = build_message(to, subject, text, html, sender=settings.mail_from)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "e-mail to %s: attempt %d failed (%s); retrying in %.1fs",
            _mask(to),
            state.attempt_number,
            _describe(exc, server) if exc else "?",
            wait,
        )

    retrying = provider_retrying(
        attempts=settings.mail_max_attempts,
        base_seconds=settings.mail_retry_base_seconds,
        is_transient=_is_transient,
        before_sleep=log_retry,
    )
    try:
        retrying(_send_once, server, msg, settings.smtp_timeout_seconds)
    except Exception as exc:
        detail = _describe(exc, server)
        if _is_transient(exc) and settings.mail_max_attempts > 1:
            detail += f" (tentamos {settings.mail_max_attempts} vezes)"
        # no cause kept: smtplib's exceptions may quote the login exchange
        raise MailError(detail) from None
    return msg


def _mask(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:2]}***@{domain}" if domain else "***"
