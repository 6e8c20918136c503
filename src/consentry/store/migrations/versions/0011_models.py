"""Model versions and the builds they were trained on, so that withdrawals reach the models.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

`models` holds one row per model name and version (when it was trained, where
it lives, how it was registered); `model_builds` the builds each was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("trained_us", sa.BigInteger, nullable=False),
        sa.Column("registered_us", sa.BigInteger, nullable=False),
        sa.Column("uri", sa.Text, nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_index("ux_models_name_version", "models", ["name", "version"], unique=True)
    op.create_table(
        "model_builds",
        sa.Column("model_id", sa.String(64), sa.ForeignKey("models.model_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("build_id", sa.String(64), sa.ForeignKey("builds.build_id"), primary_key=True),
    )
    op.create_index("ix_model_builds_build", "model_builds", ["build_id"])


def downgrade() -> None:
    op.drop_index("ix_model_builds_build", table_name="model_builds")
    op.drop_table("model_builds")
    op.drop_index("ux_models_name_version", table_name="models")
    op.drop_table("models")
