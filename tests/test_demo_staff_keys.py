"""`consentry serve --demo` rotates the demo staff keys: the old ones stop working, others are untouched."""

from __future__ import annotations

from consentry.demo.staff_keys import rotate_demo_staff_keys
from consentry.service import StaffRegistry, StaffRole
from consentry.store import SqlStore


def test_rotation_revokes_the_previous_demo_keys_only(store: SqlStore) -> None:
    registry = StaffRegistry(store)
    own = registry.add_key("Pat", StaffRole.VIEWER)
    first = rotate_demo_staff_keys(store)
    second = rotate_demo_staff_keys(store)
    assert registry.authenticate(first.reviewer) is None and registry.authenticate(first.publisher) is None
    reviewer, publisher = registry.authenticate(second.reviewer), registry.authenticate(second.publisher)
    assert reviewer is not None and reviewer.role == StaffRole.REVIEWER
    assert publisher is not None and publisher.role == StaffRole.PUBLISHER
    assert registry.authenticate(own.secret) is not None
    live = sorted(k.name for k in registry.list_keys() if k.revoked_at is None)
    assert live == ["Pat", "demo publisher", "demo reviewer"]
    # Each demo role keeps one account from run to run: the audit log follows the same demo reviewer.
    assert sorted(a.name for a in registry.list_accounts()) == ["Pat", "demo publisher", "demo reviewer"]
