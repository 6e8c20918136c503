"""What a member sees and may do about their own data: settings, choices, objections, data use.

The service's member actions, kept out of the handlers: it reads the member's
settings and writes their choices and objections. The rules (which purposes
show, which control each gets, what the current state is and what set it) live
here, never in a handler:

- a purpose shows only if the version in effect discloses it;
- a purpose whose mode for the member's country is `excluded` gets no control,
  only a sentence saying it does not apply in the member's region;
- `setting` purposes get a toggle (one step to turn off, one step to turn on),
  `objection_form` purposes a link to the objection form, `none` nothing;
- the state shown is the decision the builds use (`consentry.decide`, with a
  pending objection, GPC, region, age and the notice period), with its reason
  in words; the toggle flips the member's own setting: their latest choice
  under the ledger's own rules, or the mode's default (`opt_out`: on,
  `opt_in`: off) when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentry.decide import ConsentFacts, Decision, decide, decide_for, latest_event, open_case_at
from consentry.errors import InputError, NotFoundError
from consentry.pipeline.registry import BuildRecord, builds_for_member
from consentry.policy import Policy, PolicyVersion
from consentry.receipts.facts import purpose_history
from consentry.receipts.signing import sign_receipt
from consentry.service.notices import notice_for
from consentry.service.reasons import reason_label
from consentry.service.receipts import Controller, Effect, ReceiptFormat, build_receipt
from consentry.store.protocol import ConsentEvent, Member, NewEvent, ObjectionCase, Store
from consentry.timeutil import iso
from consentry.vocab import CaseStatus, Choice, Control, LegalBasis, Mode, ReasonCode, Source

__all__ = [
    "ChangedBy",
    "ControlKind",
    "MemberData",
    "PurposeSetting",
    "SettingsView",
    "choice_history",
    "choice_receipt",
    "file_objection",
    "honour_gpc",
    "member_case",
    "member_data",
    "member_event",
    "objection_purposes",
    "set_choice",
    "settings_view",
    "signed_choice_receipt",
]


class ControlKind(StrEnum):
    """What the settings page offers for one purpose."""

    TOGGLE = "toggle"
    OBJECTION_FORM = "objection_form"
    NOT_IN_REGION = "not_in_region"
    NONE = "none"


class ChangedBy(StrEnum):
    """What set the current state of a purpose."""

    DEFAULT = "default"
    MEMBER = "member"
    GPC = "gpc"
    OBJECTION = "objection"
    IMPORT = "import"
    STAFF = "staff"


_CHANGED_BY = {
    Source.SETTINGS: ChangedBy.MEMBER,
    Source.API: ChangedBy.MEMBER,
    Source.GPC: ChangedBy.GPC,
    Source.OBJECTION_FORM: ChangedBy.OBJECTION,
    Source.IMPORT: ChangedBy.IMPORT,
    Source.ADMIN: ChangedBy.STAFF,
}

_SOURCES_FOR_MEMBER = frozenset({Source.SETTINGS, Source.API})


@dataclass(frozen=True)
class PurposeSetting:
    """One purpose on the settings page: its control and its current state.

    `enabled`, `reason` and `reason_label` are the decision the builds use
    (`consentry.decide`) for the member now; `choice_enabled` is the member's
    own setting (or the default), which the toggle flips. The two differ when
    something other than the setting decides: a pending objection, the notice
    period, age, region.
    """

    purpose: str
    label: str
    description: str | None
    legal_basis: LegalBasis
    control: ControlKind
    mode: Mode
    enabled: bool
    choice_enabled: bool
    reason: ReasonCode
    reason_label: str
    since: datetime | None
    changed_by: ChangedBy
    event_id: int | None
    open_case_id: str | None
    sentence: str
    #: When processing became (or becomes) allowed for the member, as the notice-period reason says.
    starts: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "purpose": self.purpose,
            "label": self.label,
            "description": self.description,
            "legal_basis": self.legal_basis.value,
            "control": self.control.value,
            "mode": self.mode.value,
            "enabled": self.enabled,
            "choice_enabled": self.choice_enabled,
            "reason": self.reason.value,
            "reason_label": self.reason_label,
            "since": iso(self.since),
            "changed_by": self.changed_by.value,
            "event_id": self.event_id,
            "open_case_id": self.open_case_id,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class SettingsView:
    """The member's data-privacy settings as of `at`."""

    member_id: str
    country: str | None
    at: datetime
    policy_version: str | None
    terms_url: str | None
    purposes: tuple[PurposeSetting, ...]
    gpc_honoured: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "member_id": self.member_id,
            "country": self.country,
            "at": iso(self.at),
            "policy_version": self.policy_version,
            "terms_url": self.terms_url,
            "gpc_honoured": self.gpc_honoured,
            "purposes": [p.to_dict() for p in self.purposes],
        }


@dataclass(frozen=True)
class MemberData:
    """Everything the "my data" page shows: how the data is used now, choices, builds, cases."""

    member_id: str
    uses: tuple[PurposeSetting, ...]
    choices: tuple[ConsentEvent, ...]
    builds: tuple[BuildRecord, ...]
    open_cases: tuple[ObjectionCase, ...]
    closed_cases: tuple[ObjectionCase, ...]


def _member(store: Store, member_id: str) -> Member:
    member = store.find_member(member_id)
    if member is None:
        raise NotFoundError(f"no member {member_id!r}; sign in again or ask the platform to import the member")
    return member


#: Reasons that the member's own setting explains; any other reason overrides it.
_CHOICE_REASONS = frozenset({ReasonCode.ALLOWED, ReasonCode.OPTED_OUT, ReasonCode.NOT_OPTED_IN})


def _default_enabled(mode: Mode) -> bool:
    return mode is Mode.OPT_OUT


def _sentence(label: str, decision: Decision, changed_by: ChangedBy, why: str) -> str:
    if decision.reason is ReasonCode.REGION_EXCLUDED:
        return f"{label} does not apply in your region: your data is not used for it."
    state = "on" if decision.allowed else "off"
    if decision.reason not in _CHOICE_REASONS and decision.reason is not ReasonCode.OBJECTION_UPHELD:
        return f"{label} is {state}. {why}."
    who = {
        ChangedBy.DEFAULT: "This is the default under the current terms.",
        ChangedBy.MEMBER: "You chose this.",
        ChangedBy.GPC: "Your browser's Global Privacy Control signal was honoured.",
        ChangedBy.OBJECTION: "Your objection was upheld.",
        ChangedBy.IMPORT: "Recorded from an earlier choice you made.",
        ChangedBy.STAFF: "Recorded by our privacy team.",
    }[changed_by]
    return f"{label} is {state}. {who}"


@dataclass(frozen=True)
class _Ledger:
    """The member's events and cases, read once per view (the same rules as `Store.state`/`open_case`)."""

    events: tuple[ConsentEvent, ...]
    cases: tuple[ObjectionCase, ...]

    def state(self, purpose: str, at: datetime) -> ConsentEvent | None:
        """Latest event for the purpose with `at` <= T, ties broken by the higher event id."""
        return latest_event(self.events, purpose, at)

    def open_case(self, purpose: str, at: datetime) -> ObjectionCase | None:
        """The latest-received case covering the purpose that is open at T."""
        return open_case_at(self.cases, purpose, at)

    def facts(self, purpose: str, at: datetime) -> ConsentFacts:
        """What `decide` needs about this purpose, with `at` and now the same moment."""
        return ConsentFacts.from_history(self.events, self.cases, purpose, at)


def _purpose_setting(
    ledger: _Ledger, policy: Policy, version: PolicyVersion, member: Member, purpose: str, at: datetime
) -> PurposeSetting | None:
    """The purpose as the member sees it: the state is the decision the builds use, never a copy of it."""
    rule = version.purposes[purpose]
    mode = version.mode_for(purpose, member.country)
    if mode is None:
        return None
    if mode is Mode.EXCLUDED:
        kind = ControlKind.NOT_IN_REGION
    else:
        kind = {
            Control.SETTING: ControlKind.TOGGLE,
            Control.OBJECTION_FORM: ControlKind.OBJECTION_FORM,
            Control.NONE: ControlKind.NONE,
        }[rule.control]
    decision = decide(policy, purpose, member, ledger.facts(purpose, at), at=at, now=at)
    event = ledger.state(purpose, at)
    if mode is Mode.EXCLUDED:
        chosen, since, changed_by = False, None, ChangedBy.DEFAULT
    elif event is None:
        chosen, since, changed_by = _default_enabled(mode), None, ChangedBy.DEFAULT
    else:
        chosen, since, changed_by = event.choice is Choice.ALLOW, event.at, _CHANGED_BY[event.source]
    case = ledger.open_case(purpose, at)
    starts = policy.processing_starts(purpose, member.country, at)
    why = reason_label(decision.reason, starts)
    return PurposeSetting(
        purpose=purpose,
        label=rule.label,
        description=rule.description,
        legal_basis=rule.legal_basis,
        control=kind,
        mode=mode,
        enabled=decision.allowed,
        choice_enabled=chosen,
        reason=decision.reason,
        reason_label=why,
        since=since,
        changed_by=changed_by,
        event_id=None if event is None or mode is Mode.EXCLUDED else event.event_id,
        open_case_id=case.case_id if case is not None else None,
        sentence=_sentence(rule.label, decision, changed_by, why),
        starts=starts,
    )


def settings_view(store: Store, member_id: str, at: datetime, policy: Policy | None = None) -> SettingsView:
    """The member's settings under the version in effect at `at` (NotFoundError if unknown).

    One store read: the member, their events and their cases come from `Store.member_facts`.
    """
    facts = store.member_facts(member_id)
    if facts is None:
        raise NotFoundError(f"no member {member_id!r}; sign in again or ask the platform to import the member")
    member = facts.member
    policy = policy or store.policy()
    version = policy.version_at(at)
    if version is None:
        return SettingsView(member_id, member.country, at, None, None, (), False)
    ledger = _Ledger(facts.events, facts.cases)
    settings = tuple(
        s
        for purpose in sorted(version.purposes)
        if (s := _purpose_setting(ledger, policy, version, member, purpose, at)) is not None
    )
    gpc = any(s.changed_by is ChangedBy.GPC for s in settings)
    return SettingsView(member_id, member.country, at, version.version, version.terms_url, settings, gpc)


def _before_it_starts(policy: Policy, member: Member, purpose: str, at: datetime) -> PolicyVersion | None:
    """The version whose notice runs and that brings `purpose` in for the member, with a setting, while the
    version in effect does not use it for them: the member may choose now, before it starts."""
    current = policy.version_at(at)
    if current is not None and current.mode_for(purpose, member.country) not in (None, Mode.EXCLUDED):
        return None
    banner = notice_for(policy, member.country, at)
    if banner is None or not any(c.purpose == purpose and c.can_turn_off_now for c in banner.changes):
        return None
    return banner.version


def _offered(
    policy: Policy, member: Member, purpose: str, at: datetime, control: Control
) -> tuple[PolicyVersion, Mode]:
    early = _before_it_starts(policy, member, purpose, at) if control is Control.SETTING else None
    if early is not None:
        return early, Mode.OPT_OUT
    version = policy.version_at(at)
    rule = version.purpose(purpose) if version is not None else None
    if version is None or rule is None:
        raise InputError(f"purpose {purpose!r} is not disclosed by the terms in effect", field="purpose")
    mode = version.mode_for(purpose, member.country)
    if mode is None or mode is Mode.EXCLUDED:
        raise InputError(f"purpose {purpose!r} does not apply in your region", field="purpose")
    if rule.control is not control:
        how = {
            Control.SETTING: "change it with its setting",
            Control.OBJECTION_FORM: "use the objection form",
            Control.NONE: "it has no member control",
        }[rule.control]
        raise InputError(f"purpose {purpose!r} is not controlled this way; {how}", field="purpose")
    return version, mode


def set_choice(
    store: Store,
    member_id: str,
    purpose: str,
    enabled: bool,
    at: datetime,
    *,
    source: Source = Source.SETTINGS,
    policy: Policy | None = None,
    idempotency_key: str | None = None,
    store_stamps: bool = False,
) -> ConsentEvent:
    """Record the member's toggle for a `setting` purpose (InputError if it has no toggle for them).

    The event happens at `at`, or, with `store_stamps`, at the time the store stamps under its write
    lock, so that concurrent toggles take effect in the order they were acknowledged."""
    if source not in _SOURCES_FOR_MEMBER:
        raise InputError(f"source {source.value!r} is not a member's own choice", field="source")
    member = _member(store, member_id)
    version, _ = _offered(policy or store.policy(), member, purpose, at, Control.SETTING)
    return store.record(
        NewEvent(
            member_id=member_id,
            purpose=purpose,
            choice=Choice.ALLOW if enabled else Choice.DENY,
            at=None if store_stamps else at,
            source=source,
            actor=member_id,
            policy_version=version.version,
            idempotency_key=idempotency_key,
        )
    )


def objection_purposes(store: Store, member_id: str, at: datetime, policy: Policy | None = None) -> list[str]:
    """Purposes the member may object to through the form at `at`."""
    view = settings_view(store, member_id, at, policy)
    return [p.purpose for p in view.purposes if p.control is ControlKind.OBJECTION_FORM]


def file_objection(
    store: Store,
    member_id: str,
    purposes: Sequence[str],
    at: datetime,
    text: str | None = None,
    policy: Policy | None = None,
) -> ObjectionCase:
    """File an objection for the member (no reason required; InputError for purposes not on the form)."""
    if not purposes:
        raise InputError("choose at least one purpose to object to", field="purposes")
    member = _member(store, member_id)
    resolved = policy or store.policy()
    for purpose in purposes:
        _offered(resolved, member, purpose, at, Control.OBJECTION_FORM)
    clean = (text or "").strip() or None
    if clean is not None and len(clean) > 5000:
        raise InputError("keep the text under 5,000 characters", field="text")
    return store.file_objection(member_id, list(dict.fromkeys(purposes)), at, clean)


def honour_gpc(store: Store, member_id: str, at: datetime | None) -> list[ConsentEvent]:
    """Record a Sec-GPC: 1 signal for the member (idempotent per policy version and purpose)."""
    _member(store, member_id)
    return store.record_gpc(member_id, at, actor="gpc-header")


def choice_history(store: Store, member_id: str) -> list[ConsentEvent]:
    """Every choice recorded for the member, newest first."""
    _member(store, member_id)
    return sorted(store.events(member_id=member_id), key=lambda e: e.event_id, reverse=True)


def member_event(store: Store, member_id: str, event_id: int) -> ConsentEvent:
    """One of the member's own events; NotFoundError for anyone else's (never reveals it exists)."""
    for event in store.events(member_id=member_id):
        if event.event_id == event_id:
            return event
    raise NotFoundError(f"no choice {event_id} in your history")


def choice_receipt(
    store: Store,
    member_id: str,
    event_id: int,
    fmt: ReceiptFormat,
    controller: Controller,
    policy: Policy | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A receipt for one of the member's choices, with what the choice did when it was made.

    The effect is the decision the builds make (`decide_for`) as of the choice's moment; the
    receipt carries the member's history for the purpose up to the choice, and `created` as dct:created.
    """
    event = member_event(store, member_id, event_id)
    member = _member(store, member_id)
    resolved = policy or store.policy()
    decision = decide_for(store, member_id, event.purpose, at=event.at, policy=resolved)
    starts = resolved.processing_starts(event.purpose, member.country, event.at)
    effect = Effect(decision, reason_label(decision.reason, starts))
    history = purpose_history(store.events(member_id=member_id, purpose=event.purpose), event)
    return build_receipt(fmt, resolved, member, event, controller, effect, history=history, created=created)


def signed_choice_receipt(
    store: Store,
    member_id: str,
    event_id: int,
    fmt: ReceiptFormat,
    controller: Controller,
    now: datetime,
    policy: Policy | None = None,
) -> str:
    """`choice_receipt` signed as a compact JWS with the store's current receipt key (docs/receipts.md)."""
    receipt = choice_receipt(store, member_id, event_id, fmt, controller, policy, created=now)
    return sign_receipt(receipt, fmt, store.secrets, now)


def member_case(store: Store, member_id: str, case_id: str) -> ObjectionCase:
    """One of the member's own objection cases; NotFoundError for anyone else's."""
    try:
        case = store.objection(case_id)
    except NotFoundError:
        case = None
    if case is None or case.member_id != member_id:
        raise NotFoundError(f"no objection case {case_id!r} among yours")
    return case


def member_data(store: Store, member_id: str, at: datetime, policy: Policy | None = None) -> MemberData:
    """How the member's data is used at `at` (the settings' decisions), their choices, builds and cases."""
    uses = settings_view(store, member_id, at, policy).purposes
    choices = tuple(choice_history(store, member_id))
    cases = sorted(store.objections(member_id=member_id), key=lambda c: c.received_at, reverse=True)
    return MemberData(
        member_id=member_id,
        uses=uses,
        choices=choices,
        builds=tuple(builds_for_member(store, member_id)),
        open_cases=tuple(c for c in cases if c.status is CaseStatus.RECEIVED),
        closed_cases=tuple(c for c in cases if c.status is not CaseStatus.RECEIVED),
    )
