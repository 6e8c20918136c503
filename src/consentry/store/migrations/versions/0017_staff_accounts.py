"""Named staff accounts: who signs in to the console (OpenID Connect) and whom each API key acts for.

Revision ID: 0017
Revises: 0010
Create Date: 2026-12-03

One row per staff member: a display name, the Consentry role, and for accounts
that sign in through OpenID Connect the provider's issuer and subject (unique
together). Revision 0018 ties the existing API keys to accounts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_staff_accounts",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("signed_in_us", sa.BigInteger, nullable=True),
        sa.Column("disabled_us", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("issuer", "subject", name="uq_service_staff_accounts_subject"),
    )


def downgrade() -> None:
    op.drop_table("service_staff_accounts")
