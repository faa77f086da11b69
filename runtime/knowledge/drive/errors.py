"""The errors every Drive call can end in. Their messages are pt-BR and safe to show: the panel,
the REST API and a connection's ``last_error`` carry them as they are."""

from __future__ import annotations

REAUTH_MESSAGE = "O acesso ao Google Drive foi revogado ou expirou. Conecte a pasta de novo para voltar a sincronizar."
SCOPE_MESSAGE = (
    "O Google não deu permissão de leitura do Drive. Conecte a pasta de novo e marque a permissão de "
    "acesso aos arquivos do Google Drive."
)


class DriveError(Exception):
    """A Drive or token-endpoint failure; the message is pt-BR and safe to show."""


class DriveAuthError(DriveError):
    """The grant is gone (invalid_grant) or lacks the Drive scope: the owner must reconnect."""


class DriveNotFound(DriveError):
    pass


class DriveNotAFolder(DriveError):
    pass
