"""The web service's rate limits, kept in the store so that every worker process counts alike.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

One row per limited key (a client address for staff sign-ins, a member or a
staff key for writes) holding the theoretical arrival time of its next action
(GCRA, consentry.store.rate_limits). Limits counted in process memory before
the upgrade start afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_rate_limits",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("tat_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_service_rate_limits_tat", "service_rate_limits", ["tat_us"])


def downgrade() -> None:
    op.drop_index("ix_service_rate_limits_tat", table_name="service_rate_limits")
    op.drop_table("service_rate_limits")
