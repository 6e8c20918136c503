"""Named secrets (`Store.secrets`): first writer wins, names listed by prefix, on SQLite and PostgreSQL."""

from __future__ import annotations

from consentry.store import SqlStore


def test_setdefault_keeps_the_first_value_and_names_lists_by_prefix(store: SqlStore) -> None:
    secrets = store.secrets
    assert secrets.names("receipt-signing-key/") == []
    assert secrets.setdefault("receipt-signing-key/0002", "b") == "b"
    assert secrets.setdefault("receipt-signing-key/0001", "a") == "a"
    assert secrets.setdefault("receipt-signing-key/0001", "other") == "a"
    secrets.setdefault("receiptXsigning", "x")
    secrets.setdefault("pseudonym-key", "p")
    assert secrets.names("receipt-signing-key/") == ["receipt-signing-key/0001", "receipt-signing-key/0002"]
    assert secrets.names("receipt_signing") == []  # a prefix is literal: _ and % match only themselves
    assert secrets.get("missing") is None
