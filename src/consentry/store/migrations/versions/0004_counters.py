"""Store counters: a members generation that every change to the members table moves on.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29

Readers that keep the members table in memory (snapshots) compare the
generation they loaded with the stored one instead of re-reading a million rows.
An independent branch off the ledger revision; the store upgrades to every head.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counters = op.create_table(
        "store_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counters, [{"name": "members", "value": 0}])


def downgrade() -> None:
    op.drop_table("store_counters")
