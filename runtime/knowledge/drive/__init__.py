"""Google Drive folders as a knowledge source: connect once (OAuth, offline access), then sync
incrementally on a self-rescheduling job.

One module per concern: ``oauth`` (the grant and token refresh), ``client`` (Drive v3 calls),
``files`` (which files are imported, under what name), ``connections`` (the connected folders),
``sync`` (one sync of a folder), ``schedule`` (the ``knowledge.drive_sync`` job chain). Callers
use the names below; importing this package registers the job (``runtime.jobs.base.JOB_MODULES``).
"""

from .client import DriveApi
from .connections import (
    disconnect,
    folder_url,
    get_connection,
    is_syncing,
    last_report,
    list_connections,
    parse_folder_ref,
    remove_connection,
    save_connection,
)
from .errors import REAUTH_MESSAGE, DriveAuthError, DriveError, DriveNotAFolder, DriveNotFound
from .files import ACCEPTED_HINT
from .oauth import CONNECT_ERRORS, DRIVE_SCOPE, SCOPES, client_registration
from .schedule import SYNC_JOB, queue_sync, request_sync, run_sync_job
from .sync import BUSY_MESSAGE, FOLDER_GONE_MESSAGE, SyncReport, sync_connection
from .transport import HTTP_TIMEOUT

__all__ = [
    "ACCEPTED_HINT",
    "BUSY_MESSAGE",
    "CONNECT_ERRORS",
    "DRIVE_SCOPE",
    "FOLDER_GONE_MESSAGE",
    "HTTP_TIMEOUT",
    "REAUTH_MESSAGE",
    "SCOPES",
    "SYNC_JOB",
    "DriveApi",
    "DriveAuthError",
    "DriveError",
    "DriveNotAFolder",
    "DriveNotFound",
    "SyncReport",
    "client_registration",
    "disconnect",
    "folder_url",
    "get_connection",
    "is_syncing",
    "last_report",
    "list_connections",
    "parse_folder_ref",
    "queue_sync",
    "remove_connection",
    "request_sync",
    "run_sync_job",
    "save_connection",
    "sync_connection",
]
