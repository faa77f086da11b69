"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for e-mail tests.

``FakeSmtp(username, password)`` requires AUTH LOGIN/PLAIN with those (plain text allowed on
loopback). ``refuse_next(n, code, text)`` answers the next n RCPT TO with that reply (a 4xx is
temporary, a 5xx permanent), ``messages`` holds the parsed messages delivered, ``logins``
the logins tried and ``rcpt_attempts`` every RCPT TO seen.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.servers import free_port


@dataclass
class FakeSmtp:
    username: str = "piloto"
    password: str = "senha-smtp-secreta"
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    rcpt_attempts: list[str] = field(default_factory=list)
    _refusals: list[str] = field(default_factory=list)

    def refuse_next(self, n: int = 1, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        self._refusals.extend([f"{code} {text}"] * n)

    # -- aiosmtpd hooks -------------------------------------------------------------------------
    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((user, password))
        # handled=False: aiosmtpd answers 235 or 535 itself
        return AuthResult(success=(user, password) == (self.username, self.password), handled=False)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.rcpt_attempts.append(address)
        if self._refusals:
            return self._refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Run on a free loopback port; yields the SMTP_URL (with the login) to reach it."""
        port = free_port()
        controller = Controller(
            self,
            hostname="127.0.0.1",
            port=port,
            authenticator=self.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        controller.start()
        try:
            yield f"smtp://{self.username}:{self.password}@127.0.0.1:{port}"
        finally:
            controller.stop()


def body_text(msg: EmailMessage, subtype: str = "plain") -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()
