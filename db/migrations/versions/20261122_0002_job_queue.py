"""job queue (pgqueuer)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

pgqueuer's tables, enum type, trigger function and trigger, rendered by pgqueuer's own
query builder for the installed release (names follow PGQUEUER_* settings; defaults:
pgqueuer, pgqueuer_log, pgqueuer_statistics, pgqueuer_schedules in schema public).
Global tables, no workspace_id: job payloads carry the workspace. The app role gets its
table and sequence rights from db.migrate.grant_app_role(), which runs after upgrade;
the enum type and the trigger function are usable by PUBLIC by default.

Upgrading pgqueuer later to a release with schema changes needs a new migration that
applies the difference (pgqueuer's `Queries.plan_upgrade()` / `pgq upgrade --dry-run`).
"""

from collections.abc import Sequence

from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def install_sql() -> str:
    return QueryBuilderEnvironment().build_install_query(create_schema=False)


def uninstall_sql() -> str:
    return QueryBuilderEnvironment().build_uninstall_query()


def upgrade() -> None:
    op.execute(install_sql())


def downgrade() -> None:
    op.execute(uninstall_sql())
