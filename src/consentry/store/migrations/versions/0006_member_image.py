"""Member image: each member row stamped with the generation of its last change, and a table for the image.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29

`members.changed_gen` holds the members generation (store_counters) of the
row's last change; rows already stored get 0. `member_image` holds the members
table as of one generation, as Arrow IPC parts (consentry.store.member_image);
it starts empty, and the first snapshot after the upgrade reads the members
table whole, as before. Writers of the image lock the store_counters row
"member_image", one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("members", sa.Column("changed_gen", sa.BigInteger, nullable=False, server_default=sa.text("0")))
    op.create_index("ix_members_changed_gen", "members", ["changed_gen"])
    op.create_table(
        "member_image",
        sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    # The row image writers lock, one at a time (its value is not used).
    counters = sa.table("store_counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "member_image", "value": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM store_counters WHERE name = 'member_image'")
    op.drop_table("member_image")
    op.drop_index("ix_members_changed_gen", table_name="members")
    op.drop_column("members", "changed_gen")  # SQLite 3.35+ drops a column in place
