"""Publishing policy versions: stored with their SHA-256, immutable, one policy per store."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry.errors import NotFoundError, PolicyConflictError
from consentry.policy import Policy, load_policy_text
from consentry.store import SqlStore


def test_publish_then_republish_is_unchanged(store: SqlStore, reference_policy: Policy) -> None:
    first = store.publish(reference_policy)
    assert [o.status for o in first] == ["stored"] * 3
    again = store.publish(reference_policy)
    assert [o.status for o in again] == ["unchanged"] * 3
    stored = store.published_versions()
    assert [v.version for v in stored] == ["2024-06-01", "2024-11-20", "2025-11-03"]
    assert [v.sha256 for v in stored] == [v.sha256 for v in reference_policy.versions]


def test_policy_rebuilt_from_store_matches(store: SqlStore, reference_policy: Policy) -> None:
    with pytest.raises(NotFoundError):
        store.policy()
    store.publish(reference_policy)
    rebuilt = store.policy()
    assert rebuilt.name == "social-network"
    assert [v.sha256 for v in rebuilt.versions] == [v.sha256 for v in reference_policy.versions]
    v = rebuilt.version("2024-11-20")
    assert v.mode_for("genai_training", "NO").value == "excluded"
    assert v.mode_for("genai_training", "US").value == "opt_out"


def _edited(reference_text: str) -> Policy:
    return load_policy_text(reference_text.replace("notice_days: 60", "notice_days: 61"))


def test_changing_a_published_version_is_refused(
    store: SqlStore, reference_policy: Policy, reference_policy_path: object
) -> None:
    store.publish(reference_policy)
    text = Path(str(reference_policy_path)).read_text(encoding="utf-8")
    with pytest.raises(PolicyConflictError, match=r"2025-11-03.*new version id"):
        store.publish(_edited(text))
    assert [v.sha256 for v in store.published_versions()] == [v.sha256 for v in reference_policy.versions]


def test_another_policy_name_is_refused(
    store: SqlStore, reference_policy: Policy, reference_policy_path: object
) -> None:
    store.publish(reference_policy)
    text = Path(str(reference_policy_path)).read_text(encoding="utf-8")
    other = load_policy_text(text.replace("policy: social-network", "policy: other"))
    with pytest.raises(PolicyConflictError, match="holds policy 'social-network'"):
        store.publish(other)


def test_a_new_version_can_be_added_later(
    store: SqlStore, reference_policy: Policy, reference_policy_path: object
) -> None:
    text = Path(str(reference_policy_path)).read_text(encoding="utf-8")
    first_two = text.split("  # 3. Announced")[0]
    store.publish(load_policy_text(first_two))
    outcomes = store.publish(reference_policy)
    assert [o.status for o in outcomes] == ["unchanged", "unchanged", "stored"]
    assert store.policy().version_at(reference_policy.versions[-1].effective_at).version == "2025-11-03"  # type: ignore[union-attr]
