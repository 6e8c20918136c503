"""Objection cases assigned to a member of the privacy staff.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

One row per assigned case: the assignee (a staff name or id), when and by whom.
Cases without a row are unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objection_case_assignments",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("assignee", sa.String(255), nullable=False),
        sa.Column("assigned_us", sa.BigInteger, nullable=False),
        sa.Column("assigned_by", sa.String(255), nullable=False),
    )
    op.create_index("ix_objection_case_assignments_assignee", "objection_case_assignments", ["assignee"])


def downgrade() -> None:
    op.drop_index("ix_objection_case_assignments_assignee", table_name="objection_case_assignments")
    op.drop_table("objection_case_assignments")
