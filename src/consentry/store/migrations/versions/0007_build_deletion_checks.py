"""The last check of each build's records against its sources, kept so that listing stale builds reads no files.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03

`build_deletion_checks` holds, per build, when its records were last checked
against its sources and how many of them had been deleted by then (NULL: the
sources or the output could not be read). `consentry builds stale` writes it;
every other reader shows it with the time it was taken.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "build_deletion_checks",
        sa.Column(
            "build_id",
            sa.String(64),
            sa.ForeignKey("builds.build_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("checked_us", sa.BigInteger, nullable=False),
        sa.Column("members", sa.BigInteger, nullable=True),
        sa.Column("records", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("build_deletion_checks")
