"""The web service's sign-in sessions, kept in the store so that ending one holds for every worker.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-03

One row per session of a member page or a staff console, keyed by the SHA-256
of its token (the token lives only in the visitor's cookie). Sessions signed
in before the upgrade carried their identity in the cookie alone; they are no
longer honoured, and their holders sign in again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("seen_us", sa.BigInteger, nullable=False),
        sa.Column("ended_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_service_sessions_subject", "service_sessions", ["kind", "subject"])
    op.create_index("ix_service_sessions_seen", "service_sessions", ["seen_us"])


def downgrade() -> None:
    op.drop_index("ix_service_sessions_seen", table_name="service_sessions")
    op.drop_index("ix_service_sessions_subject", table_name="service_sessions")
    op.drop_table("service_sessions")
