"""Audit reports stored against model versions: memorisation and forgetting audits.

Revision ID: 0021
Revises: 0012
Create Date: 2026-12-03

One row per audit run: the model version it judged (for a forgetting audit, the
retrained version; the earlier one in `baseline_model_id`), its kind, when it
ran, the policy version and thresholds applied, whether it passed, and the
whole JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_audits",
        sa.Column("audit_id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("models.model_id", ondelete="CASCADE"), nullable=False),
        sa.Column("baseline_model_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_index("ix_model_audits_model", "model_audits", ["model_id", "kind", "created_us"])


def downgrade() -> None:
    op.drop_index("ix_model_audits_model", table_name="model_audits")
    op.drop_table("model_audits")
