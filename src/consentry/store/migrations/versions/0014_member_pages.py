"""The language each member chose for the member pages, and the pages' one-time confirmations.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03

One row per member who chose a language; without a row the pages follow the
browser's Accept-Language. A confirmation ("flash") waits, keyed by the digest
of the session it belongs to, until the next page of that session shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_languages",
        sa.Column("member_id", sa.String(255), primary_key=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("set_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "service_flashes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("session_sha256", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_service_flashes_session", "service_flashes", ["session_sha256"])


def downgrade() -> None:
    op.drop_index("ix_service_flashes_session", table_name="service_flashes")
    op.drop_table("service_flashes")
    op.drop_table("member_languages")
