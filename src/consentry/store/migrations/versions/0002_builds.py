"""Training-data builds: the registry of builds, their member sets, and the pipeline's secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

An independent branch off the ledger revision; the store upgrades to every head.
Instants are integer microseconds since the epoch, UTC, like the ledger's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("build_id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("as_of_us", sa.BigInteger, nullable=False),
        sa.Column("decided_us", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("out_dir", sa.Text, nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("scrub", sa.Boolean, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("members", sa.BigInteger, nullable=False),
        sa.Column("predecessor", sa.String(64), nullable=True),
    )
    op.create_index("ix_builds_purpose", "builds", ["purpose"])
    op.create_table(
        "build_members",
        sa.Column(
            "build_id",
            sa.String(64),
            sa.ForeignKey("builds.build_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_id", sa.String(255), primary_key=True),
        sa.Column("records", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_build_members_member", "build_members", ["member_id"])
    op.create_table(
        "pipeline_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pipeline_secrets")
    op.drop_index("ix_build_members_member", table_name="build_members")
    op.drop_table("build_members")
    op.drop_index("ix_builds_purpose", table_name="builds")
    op.drop_table("builds")
