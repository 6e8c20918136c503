"""Each build's member index: its members as sorted 64-bit codes, so obligations probe integers, not ids.

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-03

`build_member_index` holds, per build, its members' codes (a fixed 64-bit
hash of each member id, sorted) and their records, in one or more parts
(consentry.store.member_index). Builds registered from now on write it with
their member set; a build registered before gets it on its first use by
forgetting obligations. Nothing is backfilled here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "build_member_index",
        sa.Column(
            "build_id",
            sa.String(64),
            sa.ForeignKey("builds.build_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("build_member_index")
