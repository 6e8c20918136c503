"""Canaries planted in builds, kept secret in the store, for the memorisation audit.

Revision ID: 0020
Revises: 0013
Create Date: 2026-12-03

`build_canary_sets` holds, per build planted with canaries, the secret seed they
were drawn from, the salt of the commitment its manifest carries, and that
commitment; `build_canaries` every canary: planted ones (the member, shard and
records it went into) and controls (the same format, never planted).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "build_canary_sets",
        sa.Column("build_id", sa.String(64), sa.ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seed", sa.String(128), nullable=False),
        sa.Column("salt", sa.String(128), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("planted", sa.Integer, nullable=False),
    )
    op.create_table(
        "build_canaries",
        sa.Column("build_id", sa.String(64), sa.ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("canary_id", sa.String(64), primary_key=True),
        sa.Column("planted", sa.Boolean, nullable=False),
        sa.Column("member_id", sa.String(255), nullable=True),
        sa.Column("shard", sa.Integer, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("repeats", sa.Integer, nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
    )
    op.create_index("ix_build_canaries_member", "build_canaries", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_build_canaries_member", table_name="build_canaries")
    op.drop_table("build_canaries")
    op.drop_table("build_canary_sets")
