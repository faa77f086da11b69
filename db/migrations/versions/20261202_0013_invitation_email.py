"""invitation e-mail: whether the invitation was e-mailed, and why not

Revision ID: 0013_invitation_email
Revises: 0012_followup_sweep
Create Date: 2026-12-02 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_invitation_email"
down_revision: str | None = "0012_followup_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # queued | sent | failed; NULL = not e-mailed (no SMTP configured: the inviter sends the link)
    op.add_column("invitation", sa.Column("email_status", sa.String(length=16), nullable=True))
    op.add_column("invitation", sa.Column("email_error", sa.String(), nullable=True))
    op.add_column("invitation", sa.Column("email_sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("invitation", "email_sent_at")
    op.drop_column("invitation", "email_error")
    op.drop_column("invitation", "email_status")
