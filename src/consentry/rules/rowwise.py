"""The row-wise form: one decision over plain facts, the reason order's predicates tried in turn.

Two moments: `at` (T) is the moment the rules and choices are taken from;
`now` is the moment the decision is made. A pure audit replay has now == at.
A build as of T decides at `now` = the build's own moment, so withdrawals,
upheld or pending objections, deletions and closures recorded after T still
win (later withdrawals always win).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from consentry.policy import Policy
from consentry.rules.facts import ConsentFacts, Decision, Facts, RecordFacts
from consentry.rules.order import OTHERWISE, REASONS
from consentry.store.protocol import Member
from consentry.timeutil import utc, utcnow
from consentry.vocab import ReasonCode

if TYPE_CHECKING:
    from consentry.store.protocol import Store

__all__ = ["decide", "decide_for", "is_allowed"]


def decide(
    policy: Policy,
    purpose: str,
    member: Member | None,
    consent: ConsentFacts | None = None,
    *,
    at: datetime,
    now: datetime | None = None,
    record: RecordFacts | None = None,
    member_id: str | None = None,
) -> Decision:
    """The first reason of the order (`consentry.rules.REASONS`) that applies to this member (and record)."""
    at = utc(at)
    facts = Facts(policy, purpose, member, consent or ConsentFacts(), record, at, at if now is None else utc(now))
    for reason in REASONS:
        if reason.applies(facts):
            return _decision(facts, reason.code, *reason.evidence(facts), member_id)
    return _decision(facts, OTHERWISE.code, *OTHERWISE.evidence(facts), member_id)


def _decision(
    f: Facts, reason: ReasonCode, event_id: int | None, case_id: str | None, member_id: str | None
) -> Decision:
    version = f.version
    return Decision(
        allowed=reason is ReasonCode.ALLOWED,
        reason=reason,
        purpose=f.purpose,
        at=f.at,
        member_id=f.member.member_id if f.member is not None else member_id,
        policy_version=version.version if version else None,
        policy_sha256=version.sha256 if version else None,
        event_id=event_id,
        case_id=case_id,
    )


def is_allowed(*args: Any, **kwargs: Any) -> bool:
    """`decide(...)` reduced to yes or no."""
    return decide(*args, **kwargs).allowed


def decide_for(
    store: Store,
    member_id: str,
    purpose: str,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
    kind: str | None = None,
    visibility: str | None = None,
    policy: Policy | None = None,
) -> Decision:
    """Decide for a member in a store: a pure replay as of `at` unless `now` is given."""
    at = utcnow() if at is None else utc(at)
    now = at if now is None else utc(now)
    policy = policy or store.policy()
    member = store.find_member(member_id)
    ev_at = store.state(member_id, purpose, at)
    ev_now = store.state(member_id, purpose, now)
    case_at = store.open_case(member_id, purpose, at)
    case_now = store.open_case(member_id, purpose, now)
    consent = ConsentFacts.from_ledger(ev_at, ev_now, case_at, case_now)
    record = RecordFacts(kind=kind, visibility=visibility, partial=True) if kind or visibility else None
    return decide(policy, purpose, member, consent, at=at, now=now, record=record, member_id=member_id)
