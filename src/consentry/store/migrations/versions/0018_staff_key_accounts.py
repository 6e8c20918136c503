"""Every staff API key acts for an account, and the audit log names the account.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

The upgrade path of the shared per-role keys: each existing key gets an account
of its own (id ``acct_<key id>``, the key's name and role), and the audit
entries it wrote name that account. The keys keep working unchanged; staff then
sign in with OpenID Connect or get keys on their own accounts, and the old keys
are revoked (docs/service.md). Audit entries of console sessions opened through
OpenID Connect have no key: `key_id` becomes nullable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"  # the staff keys and audit log tables


def upgrade() -> None:
    op.add_column("service_staff_keys", sa.Column("account_id", sa.String(32), nullable=True))
    op.add_column("service_audit_log", sa.Column("account_id", sa.String(32), nullable=True))
    with op.batch_alter_table("service_audit_log") as batch:
        batch.alter_column("key_id", existing_type=sa.String(32), nullable=True)
    op.execute(
        "INSERT INTO service_staff_accounts (account_id, name, role, created_us) "
        "SELECT 'acct_' || key_id, name, role, created_us FROM service_staff_keys"
    )
    op.execute("UPDATE service_staff_keys SET account_id = 'acct_' || key_id")
    op.execute(
        "UPDATE service_audit_log SET account_id = 'acct_' || key_id "
        "WHERE key_id IN (SELECT key_id FROM service_staff_keys)"
    )


def downgrade() -> None:
    op.execute("UPDATE service_audit_log SET key_id = 'oidc' WHERE key_id IS NULL")
    with op.batch_alter_table("service_audit_log") as batch:
        batch.drop_column("account_id")
        batch.alter_column("key_id", existing_type=sa.String(32), nullable=False)
    op.execute("ALTER TABLE service_staff_keys DROP COLUMN account_id")
    op.execute("DELETE FROM service_staff_accounts")
