"""Named staff accounts: the 0017/0018 upgrade of the shared per-role keys, and accounts in the registry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from migrating import migrated

from consentry.errors import InputError
from consentry.service import StaffRegistry, StaffRole
from consentry.store import SqlStore, database, open_store

T_US = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
LEGACY = "csk_0ld0ld00_legacy-secret-from-before-accounts"


def test_upgrade_ties_every_existing_key_to_an_account_of_its_own(store_url: str) -> None:
    """A key issued before accounts keeps working after the upgrade and acts for a new account; so do its audit rows."""
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads"):
        pass
    with migrated(eng, "downgrade", "0017") as conn:
        assert "account_id" not in {c["name"] for c in sa.inspect(conn).get_columns("service_staff_keys")}
        digest = hashlib.sha256(LEGACY.encode()).hexdigest()
        conn.execute(
            sa.text(
                "INSERT INTO service_staff_keys (key_id, name, role, key_sha256, created_us) "
                "VALUES ('0ld0ld00', 'shared reviewer key', 'reviewer', :d, :t)"
            ),
            {"d": digest, "t": T_US},
        )
        conn.execute(
            sa.text(
                "INSERT INTO service_audit_log (at_us, key_id, role, action, outcome) "
                "VALUES (:t, '0ld0ld00', 'reviewer', 'view:objections', 'ok')"
            ),
            {"t": T_US},
        )
    eng.dispose()
    store = open_store(store_url)  # upgrades to the heads
    try:
        registry = StaffRegistry(store)
        actor = registry.authenticate(LEGACY)
        assert actor is not None and actor.account_id == "acct_0ld0ld00" and actor.role is StaffRole.REVIEWER
        account = registry.account("acct_0ld0ld00")
        assert account is not None and account.name == "shared reviewer key" and account.issuer is None
        (entry,) = registry.audit_entries()
        assert (entry.key_id, entry.account_id) == ("0ld0ld00", "acct_0ld0ld00")
    finally:
        store.close()


def test_a_key_acts_for_its_account_and_stops_with_it(sqlite_store: SqlStore) -> None:
    registry = StaffRegistry(sqlite_store)
    robot = registry.add_account("Nightly export", StaffRole.VIEWER)
    issued = registry.add_key("export job", StaffRole.VIEWER, account_id=robot.account_id)
    actor = registry.authenticate(issued.secret)
    assert actor is not None and (actor.account_id, actor.key_id, actor.name) == (
        robot.account_id,
        issued.key.key_id,
        "Nightly export",
    )
    registry.audit(actor, "view:builds")
    assert registry.audit_entries()[0].account_id == robot.account_id
    registry.disable_account(robot.account_id)
    assert registry.authenticate(issued.secret) is None
    assert registry.session_actor(f"key:{issued.key.key_id}") is None
    with pytest.raises(InputError, match="no active staff account"):
        registry.add_key("another", StaffRole.VIEWER, account_id=robot.account_id)


def test_an_oidc_subject_signs_in_to_one_account_whose_role_follows_the_provider(sqlite_store: SqlStore) -> None:
    registry = StaffRegistry(sqlite_store)
    first = registry.oidc_sign_in("https://idp.example", "u-1", "Rita", StaffRole.REVIEWER)
    again = registry.oidc_sign_in("https://idp.example", "u-1", "Rita R.", StaffRole.PUBLISHER)
    other = registry.oidc_sign_in("https://other.example", "u-1", "Someone else", StaffRole.VIEWER)
    assert first is not None and again is not None and other is not None
    assert again.account_id == first.account_id != other.account_id
    assert registry.session_actor(again.session_subject) == again
    account = registry.account(first.account_id)
    assert account is not None and (account.name, account.role) == ("Rita R.", StaffRole.PUBLISHER)
    registry.disable_account(first.account_id)
    assert registry.oidc_sign_in("https://idp.example", "u-1", "Rita", StaffRole.REVIEWER) is None
    assert registry.session_actor(again.session_subject) is None
