"""Published policy versions in SQL: storing them immutably and reading them back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from consentry.errors import PolicyConflictError
from consentry.store.protocol import PublishedVersion, PublishOutcome
from consentry.store.schema import policy_versions, to_us, us_to_dt
from consentry.timeutil import utcnow

if TYPE_CHECKING:
    from consentry.policy import Policy

__all__ = ["POLICY_KEY_SQL", "POLICY_ROWS_SQL", "publish_versions", "stored_versions"]

#: What identifies the stored set of versions (they are only ever added): count and last store time.
POLICY_KEY_SQL = "SELECT count(*), max(stored_us) FROM policy_versions"
#: The stored versions' policy name and canonical JSON, to rebuild the policy from.
POLICY_ROWS_SQL = "SELECT policy, canonical_json FROM policy_versions"


def publish_versions(c: Connection, policy: Policy) -> list[PublishOutcome]:
    """Store every version of `policy` not stored yet, in the caller's transaction.

    PolicyConflictError (nothing written) if a published version id would get
    different content, or the store already holds a policy of another name.
    """
    stored = {r.version: r for r in c.execute(select(policy_versions))}
    names = {r.policy for r in stored.values()}
    if names and names != {policy.name}:
        raise PolicyConflictError(
            f"this store holds policy {sorted(names)[0]!r}, not {policy.name!r}; "
            "publish to that policy's name or use another database (CONSENTRY_DB)"
        )
    effective = {r.effective_us: r.version for r in stored.values()}
    outcomes: list[PublishOutcome] = []
    new: list[dict[str, Any]] = []
    now = to_us(utcnow())
    for v in policy.versions:
        old = stored.get(v.version)
        if old is not None:
            if old.sha256 != v.sha256:
                raise PolicyConflictError(
                    f"version {v.version!r} is already published with sha256 {old.sha256[:12]}…, "
                    f"and this file's differs ({v.sha256[:12]}…); a published version is immutable: "
                    "restore it and publish the change under a new version id"
                )
            outcomes.append(PublishOutcome(v.version, v.sha256, "unchanged"))
            continue
        eff = to_us(v.effective_at)
        if eff in effective:
            raise PolicyConflictError(
                f"version {v.version!r} takes effect at the same moment as published version "
                f"{effective[eff]!r}; give it another effective_at"
            )
        effective[eff] = v.version
        new.append(
            {
                "policy": policy.name,
                "version": v.version,
                "sha256": v.sha256,
                "published_us": to_us(v.published_at),
                "effective_us": eff,
                "stored_us": now,
                "canonical_json": v.canonical_json,
            }
        )
        outcomes.append(PublishOutcome(v.version, v.sha256, "stored"))
    if new:
        c.execute(insert(policy_versions), new)
    return outcomes


def stored_versions(c: Connection) -> list[PublishedVersion]:
    """Every stored version, in order of `effective_at`."""
    rows = c.execute(select(policy_versions).order_by(policy_versions.c.effective_us)).all()
    return [
        PublishedVersion(
            r.policy,
            r.version,
            r.sha256,
            us_to_dt(r.published_us),
            us_to_dt(r.effective_us),
            us_to_dt(r.stored_us),
            r.canonical_json,
        )
        for r in rows
    ]
