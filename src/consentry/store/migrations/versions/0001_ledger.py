"""The ledger: members, consent events with their hash chain, objection cases, policy versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Later layers add their own tables as independent branches off this revision
(`down_revision = "0001"`); the store upgrades to every head.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(255), primary_key=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("birth_day", sa.Integer, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("closed_us", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "consent_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("member_id", sa.String(255), sa.ForeignKey("members.member_id"), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("choice", sa.String(8), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("recorded_us", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=True),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True, unique=True),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_consent_events_purpose_member_at",
        "consent_events",
        ["purpose", "member_id", "at_us", "event_id", "choice", "source"],
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("last_event_id", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "events": 0, "last_event_id": 0, "hash": _EMPTY_HASH}])
    op.create_table(
        "objection_cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(255), sa.ForeignKey("members.member_id"), nullable=False),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Column("due_us", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("extended_us", sa.BigInteger, nullable=True),
        sa.Column("extension_reasons", sa.Text, nullable=True),
        sa.Column("decided_us", sa.BigInteger, nullable=True),
        sa.Column("grounds", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(255), nullable=True),
    )
    op.create_index("ix_objection_cases_member", "objection_cases", ["member_id", "received_us"])
    op.create_index("ix_objection_cases_status_due", "objection_cases", ["status", "due_us"])
    op.create_table(
        "objection_case_purposes",
        sa.Column("case_id", sa.String(64), sa.ForeignKey("objection_cases.case_id"), primary_key=True),
        sa.Column("purpose", sa.String(64), primary_key=True),
    )
    op.create_index("ix_objection_case_purposes_purpose", "objection_case_purposes", ["purpose", "case_id"])
    op.create_table(
        "policy_versions",
        sa.Column("policy", sa.String(255), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_us", sa.BigInteger, nullable=False),
        sa.Column("effective_us", sa.BigInteger, nullable=False),
        sa.Column("stored_us", sa.BigInteger, nullable=False),
        sa.Column("canonical_json", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_versions")
    op.drop_index("ix_objection_case_purposes_purpose", "objection_case_purposes")
    op.drop_table("objection_case_purposes")
    op.drop_index("ix_objection_cases_status_due", "objection_cases")
    op.drop_index("ix_objection_cases_member", "objection_cases")
    op.drop_table("objection_cases")
    op.drop_table("ledger_head")
    op.drop_index("ix_consent_events_purpose_member_at", "consent_events")
    op.drop_table("consent_events")
    op.drop_table("members")
