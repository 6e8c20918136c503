"""Ledger test helpers: a store with the reference policy published and a few members."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from consentry.policy import Policy
from consentry.store import Member, SqlStore


def t(text: str) -> datetime:
    """An instant from RFC 3339 text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


MEMBERS = [
    Member("m1", "US", date(1990, 5, 1), t("2020-01-01T00:00:00Z")),
    Member("m2", "DE", None, t("2021-06-01T00:00:00Z")),
    Member("m3", None, date(2010, 1, 1), t("2022-01-01T00:00:00Z"), t("2025-01-01T00:00:00Z")),
]


@pytest.fixture
def ready(store: SqlStore, reference_policy: Policy) -> SqlStore:
    """The parametrised store with the reference policy published and MEMBERS added."""
    store.publish(reference_policy)
    store.add_members(MEMBERS)
    return store
