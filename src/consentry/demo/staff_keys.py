"""Staff keys for the demo: every `consentry serve --demo` revokes the previous ones and issues fresh ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consentry.store.protocol import Store

__all__ = ["DEMO_KEY_PREFIX", "DemoStaffKeys", "rotate_demo_staff_keys"]

#: Demo keys are named "demo reviewer" and "demo publisher"; keys named otherwise are left alone.
DEMO_KEY_PREFIX = "demo "


@dataclass(frozen=True)
class DemoStaffKeys:
    """The secrets of the fresh demo keys (only their hashes are stored)."""

    reviewer: str
    publisher: str


def rotate_demo_staff_keys(store: Store) -> DemoStaffKeys:
    """Revoke every live demo staff key, then issue a reviewer key and a publisher key."""
    from consentry.service.staff import StaffRegistry, StaffRole

    registry = StaffRegistry(store)
    for key in registry.list_keys():
        if key.name.startswith(DEMO_KEY_PREFIX) and key.revoked_at is None:
            registry.revoke(key.key_id)
    # One account per demo role, kept from run to run; only its keys are fresh.
    accounts = {a.name: a.account_id for a in registry.list_accounts() if a.disabled_at is None}

    def issue(role: StaffRole) -> str:
        name = f"{DEMO_KEY_PREFIX}{role.value}"
        return registry.add_key(name, role, account_id=accounts.get(name)).secret

    return DemoStaffKeys(reviewer=issue(StaffRole.REVIEWER), publisher=issue(StaffRole.PUBLISHER))
