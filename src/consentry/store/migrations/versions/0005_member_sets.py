"""Build member sets: a few stored chunks per build instead of one row per member and build.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29

`build_member_chunks` holds each build's member set sorted by member_id and
cut into chunks, each Parquet bytes of (member_id, records) with its first
member_id (consentry.store.member_sets). The rows of `build_members` move
into it, build by build, and the table goes; downgrade moves them back.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from consentry.store.member_sets import encode

    chunks = op.create_table(
        "build_member_chunks",
        sa.Column(
            "build_id",
            sa.String(64),
            sa.ForeignKey("builds.build_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("first_member_id", sa.String(255), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    old = sa.table("build_members", sa.column("build_id"), sa.column("member_id"), sa.column("records"))
    build_ids = conn.execute(sa.select(sa.table("builds", sa.column("build_id")).c.build_id)).scalars().all()
    for build_id in build_ids:
        rows = conn.execute(
            sa.select(old.c.member_id, old.c.records).where(old.c.build_id == build_id).order_by(old.c.member_id)
        ).all()
        members = pa.table(
            {
                "member_id": pa.array([r[0] for r in rows], pa.string()),
                "records": pa.array([r[1] for r in rows], pa.int64()),
            }
        )
        parts = [{"build_id": build_id, "first_member_id": first, "data": data} for first, data in encode(members)]
        if parts:
            conn.execute(chunks.insert(), parts)
    op.drop_index("ix_build_members_member", table_name="build_members")
    op.drop_table("build_members")


def downgrade() -> None:
    from consentry.store.member_sets import decode

    members = op.create_table(
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
    conn = op.get_bind()
    chunks = sa.table("build_member_chunks", sa.column("build_id"), sa.column("first_member_id"), sa.column("data"))
    build_ids = conn.execute(sa.select(chunks.c.build_id).distinct()).scalars().all()
    for build_id in build_ids:
        query = sa.select(chunks.c.first_member_id, chunks.c.data).where(chunks.c.build_id == build_id)
        parts = conn.execute(query).all()
        rows = decode(data for _, data in sorted(parts, key=lambda p: p[0])).to_pylist()
        conn.execute(members.insert(), [{"build_id": build_id, **row} for row in rows])
    op.drop_table("build_member_chunks")
