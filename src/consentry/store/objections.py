"""The objection workflow's rules, separate from storage.

A member files an objection through the form; no reason is required.

- Filing: the purposes must be disclosed by the version in effect when the
  case is received. Any disclosed purpose may be objected to, not only those
  whose control is `objection_form`: the right to object does not depend on
  which control the platform chose to offer, and staff decide the case.
  `due_by` = received + `objections.response_days` of that version.
- Extension: at most once, only before the original `due_by`, by 1 to
  `objections.max_extension_days` days, with the reasons recorded.
- Decision: `upheld` or `rejected`, once; a rejection needs recorded grounds;
  not before the case was received. An upheld case records a `deny` from the
  `objection_form` source for each of its purposes (done by the store).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from consentry.errors import InputError, ObjectionError
from consentry.policy import PolicyVersion
from consentry.store.protocol import ObjectionCase
from consentry.timeutil import iso
from consentry.vocab import CaseStatus

__all__ = ["check_decision", "check_extension", "new_case", "new_case_id", "objection_event_key"]

_MAX_TEXT = 10_000


def new_case_id() -> str:
    """A short, unguessable case id such as ``obj_k3v9q2x7m4hd8w1c``."""
    return "obj_" + secrets.token_hex(8)


def objection_event_key(case_id: str, purpose: str) -> str:
    """Idempotency key of the deny an upheld case records for `purpose`."""
    return f"objection:{case_id}:{purpose}"


def new_case(
    member_id: str,
    purposes: Sequence[str],
    at: datetime,
    text: str | None,
    version: PolicyVersion | None,
) -> ObjectionCase:
    """A received case, after checking the purposes against the version in effect at `at`."""
    wanted = tuple(sorted({p.strip() for p in purposes if p and p.strip()}))
    if not wanted:
        raise InputError("name at least one purpose to object to", field="purposes")
    if version is None:
        raise ObjectionError(
            f"no policy version is in effect at {iso(at)}, so nothing is disclosed to object to; "
            "check the time or publish the policy"
        )
    undisclosed = [p for p in wanted if not version.discloses(p)]
    if undisclosed:
        raise ObjectionError(
            f"policy version {version.version} does not disclose {', '.join(undisclosed)}; "
            f"it discloses {', '.join(sorted(version.purposes))}"
        )
    if text is not None and len(text) > _MAX_TEXT:
        raise InputError(f"longer than {_MAX_TEXT} characters; shorten it", field="text")
    due = at + timedelta(days=version.spec.objections.response_days)
    return ObjectionCase(
        case_id=new_case_id(),
        member_id=member_id,
        purposes=wanted,
        received_at=at,
        due_by=due,
        status=CaseStatus.RECEIVED,
        text=text or None,
        policy_version=version.version,
    )


def check_extension(
    case: ObjectionCase, at: datetime, reasons: str, days: int, max_extension_days: int
) -> ObjectionCase:
    """The case with its deadline extended, or ObjectionError saying why it cannot be."""
    if case.status is not CaseStatus.RECEIVED:
        raise ObjectionError(f"case {case.case_id} is already {case.status.value}; only open cases can be extended")
    if case.extended_at is not None:
        raise ObjectionError(f"case {case.case_id} was already extended on {iso(case.extended_at)}; only once")
    if not reasons or not reasons.strip():
        raise ObjectionError("an extension needs its reasons, as sent to the member; give --reasons")
    if at < case.received_at:
        raise ObjectionError(f"{iso(at)} is before case {case.case_id} was received ({iso(case.received_at)})")
    if at >= case.due_by:
        raise ObjectionError(
            f"the reasons for an extension must be sent before the original deadline {iso(case.due_by)}; "
            "decide the case instead"
        )
    if not 1 <= days <= max_extension_days:
        raise ObjectionError(
            f"an extension may add 1 to {max_extension_days} days under policy version "
            f"{case.policy_version}; {days} asked"
        )
    return replace(case, due_by=case.due_by + timedelta(days=days), extended_at=at, extension_reasons=reasons.strip())


def check_decision(
    case: ObjectionCase, outcome: CaseStatus, at: datetime, grounds: str | None, actor: str | None
) -> ObjectionCase:
    """The decided case, or ObjectionError saying why it cannot be decided so."""
    if outcome is CaseStatus.RECEIVED:
        raise ObjectionError("the outcome must be upheld or rejected")
    if case.status is not CaseStatus.RECEIVED:
        raise ObjectionError(
            f"case {case.case_id} was already {case.status.value} on {iso(case.decided_at)}; a decision is final"
        )
    if at < case.received_at:
        raise ObjectionError(f"{iso(at)} is before case {case.case_id} was received ({iso(case.received_at)})")
    if outcome is CaseStatus.REJECTED and not (grounds and grounds.strip()):
        raise ObjectionError("a rejection needs its grounds recorded; give --grounds")
    return replace(
        case,
        status=outcome,
        decided_at=at,
        grounds=grounds.strip() if grounds and grounds.strip() else None,
        decided_by=actor,
    )
