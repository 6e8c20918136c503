"""Members' reservations: which signal categories a member's public pages carry now.

A purpose the policy maps to signals (`signals: {aipref: train-ai, ...}`, in the
version in effect) is *reserved* for a member whenever the platform itself may
not use the member's data for it: the decision of `consentry.decide` for the
member at that moment, with the same rules the builds apply (region excluded,
notice period, age, a pending objection where it restricts processing, GPC,
the member's own setting, an unknown member, …). Anything that is not ALLOWED
reserves; a member who has not reserved anything gets no signal at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from consentry.decide import ConsentFacts, decide
from consentry.policy import Policy
from consentry.store.protocol import ConsentEvent, Member, ObjectionCase, Store
from consentry.timeutil import utc, utcnow
from consentry.vocab import SignalKind

__all__ = ["Reservation", "member_reservation", "reservation_for", "signal_purposes"]


@dataclass(frozen=True)
class Reservation:
    """What a member's public pages state as of `at`: the reserved categories per signal kind.

    `tdm_policy` is the terms URL of the version in effect, sent as TDMRep's `tdm-policy`.
    """

    member_id: str
    at: datetime
    reserved: Mapping[SignalKind, frozenset[str]] = field(default_factory=dict)
    tdm_policy: str | None = None

    @property
    def any(self) -> bool:
        """Does the member reserve anything?"""
        return any(self.reserved.values())

    def categories(self, kind: SignalKind) -> frozenset[str]:
        """The reserved categories of one kind (empty when none)."""
        return self.reserved.get(kind, frozenset())


def signal_purposes(policy: Policy, at: datetime) -> dict[str, dict[SignalKind, list[str]]]:
    """The purposes the version in effect at `at` maps to signals, with their categories."""
    version = policy.version_at(utc(at))
    if version is None:
        return {}
    return {name: dict(rule.signals) for name, rule in version.spec.purposes.items() if rule.signals}


def member_reservation(
    policy: Policy,
    member_id: str,
    member: Member | None,
    events: Iterable[ConsentEvent],
    cases: Iterable[ObjectionCase],
    at: datetime,
) -> Reservation:
    """The member's reservation as of `at` from their ledger history (`member` None: unknown, all reserved)."""
    at = utc(at)
    events, cases = tuple(events), tuple(cases)
    reserved: dict[SignalKind, set[str]] = {}
    for purpose, signals in signal_purposes(policy, at).items():
        consent = ConsentFacts.from_history(events, cases, purpose, at)
        decision = decide(policy, purpose, member, consent, at=at, now=at, member_id=member_id)
        if decision.allowed:
            continue
        for kind, categories in signals.items():
            reserved.setdefault(kind, set()).update(categories)
    version = policy.version_at(at)
    return Reservation(
        member_id=member_id,
        at=at,
        reserved={k: frozenset(v) for k, v in reserved.items()},
        tdm_policy=version.terms_url if version is not None else None,
    )


def reservation_for(
    store: Store, member_id: str, at: datetime | None = None, policy: Policy | None = None
) -> Reservation:
    """The member's reservation now (or at `at`), from one read of the store."""
    at = utcnow() if at is None else utc(at)
    policy = policy or store.policy()
    facts = store.member_facts(member_id)
    if facts is None:
        return member_reservation(policy, member_id, None, (), (), at)
    return member_reservation(policy, member_id, facts.member, facts.events, facts.cases, at)
