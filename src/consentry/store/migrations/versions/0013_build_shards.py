"""Each build's shard count, so that lineage and rebuilds can work shard by shard.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03

One column on `builds`: the number of cohort shards the build's output is
split into (1 for every build registered before this revision, and for
unsharded builds). A sharded build's member set chunks also hold each
member's shard (consentry.store.member_sets); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("builds", sa.Column("shards", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), as 0010's downgrade: a batch copy would recreate `builds`.
    op.execute("ALTER TABLE builds DROP COLUMN shards")
