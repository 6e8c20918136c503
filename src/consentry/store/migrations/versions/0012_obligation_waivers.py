"""Forgetting obligations waived by staff: who, when, on what grounds, for which members.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Obligations are computed from the models, their builds' member sets and the
ledger; only a waiver, a staff decision, is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_obligation_waivers",
        sa.Column("obligation_id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("models.model_id", ondelete="CASCADE"), nullable=False),
        sa.Column("waived_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("grounds", sa.Text, nullable=False),
        sa.Column("members", sa.Text, nullable=False),
    )
    op.create_index("ix_model_obligation_waivers_model", "model_obligation_waivers", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_model_obligation_waivers_model", table_name="model_obligation_waivers")
    op.drop_table("model_obligation_waivers")
