"""The ledger head each build saw, so that `builds stale` can tell when the ledger no longer holds it.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

Two nullable columns on `builds`: the number of events and the chain hash of
the last one when the build read the ledger. Builds registered before this
revision keep NULL there and are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("builds", sa.Column("ledger_events", sa.BigInteger, nullable=True))
    op.add_column("builds", sa.Column("ledger_head", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy would drop and recreate `builds`,
    # and SQLite's foreign keys would take the member sets with it.
    op.execute("ALTER TABLE builds DROP COLUMN ledger_head")
    op.execute("ALTER TABLE builds DROP COLUMN ledger_events")
