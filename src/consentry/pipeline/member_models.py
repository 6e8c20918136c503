"""One member's view of the models trained with their data: for each, what happens to it.

Computed for the member alone (cheap enough for a page): the builds holding
their data (`builds_for_member`), the model versions trained on them, the
row-wise rules for the member at each build's purpose and T, decided now (the
same reasons the vectorised form gives: a property test holds them equal), and
the same due dates, ids, waivers and "met" as `consentry.pipeline.obligations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from consentry.pipeline.obligations import due_date, obligation_id
from consentry.pipeline.registry import BuildRecord, builds_for_member
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store
from consentry.timeutil import iso, utc, utcnow
from consentry.vocab import ReasonCode

__all__ = ["MemberModel", "member_models"]


@dataclass(frozen=True)
class MemberModel:
    """A model version trained with the member's data, and its state for them.

    `state`: `in_use` (the member still allows this use: nothing is owed),
    `open` / `overdue` (to be retrained without their data by `due_by`),
    `met` (retrained without it: `met_at`, by `met_by`), `waived` (staff
    recorded `grounds` for not retraining).
    """

    model: ModelRecord
    purpose: str
    state: str
    cause: str | None = None
    due_by: datetime | None = None
    met_at: datetime | None = None
    met_by: str | None = None
    grounds: str | None = None
    obligation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what the member API returns)."""
        return {
            "model_id": self.model.model_id,
            "name": self.model.name,
            "version": self.model.version,
            "trained_at": iso(self.model.trained_at),
            "purpose": self.purpose,
            "state": self.state,
            "cause": self.cause,
            "due_by": iso(self.due_by),
            "met_at": iso(self.met_at),
            "met_by": self.met_by,
            "grounds": self.grounds,
            "obligation_id": self.obligation_id,
        }


def _cause(store: Store, member_id: str, build: BuildRecord, now: datetime) -> tuple[str, datetime] | None:
    """The member-level reason that excludes the member from `build` now, and when it arose (None: allowed)."""
    from consentry.decide import decide_for

    decision = decide_for(store, member_id, build.purpose, at=build.as_of, now=now)
    if decision.allowed:
        return None
    decided = build.decided_at or build.created_at
    at: datetime | None = None
    if decision.reason is ReasonCode.ACCOUNT_CLOSED:
        at = store.member(member_id).closed_at
    elif decision.reason is ReasonCode.OBJECTION_PENDING and decision.case_id is not None:
        at = store.objection(decision.case_id).received_at
    elif decision.event_id is not None:
        at = store.event(decision.event_id).at
    return decision.reason.value, max(at, decided) if at is not None else decided


def member_models(store: Store, member_id: str, *, now: datetime | None = None) -> list[MemberModel]:
    """Every model version registered by `now` trained on a build holding the member's data, with its state."""
    now = utc(now) if now is not None else utcnow()
    builds = {b.build_id: b for b in builds_for_member(store, member_id)}
    if not builds:
        return []
    versions = [m for m in store.models.all() if m.registered_at <= now]
    causes = {b: _cause(store, member_id, record, now) for b, record in builds.items()}
    waivers = {w.obligation_id: w for w in store.models.waivers() if w.waived_at <= now}
    policy = store.policy()
    out = []
    for model in versions:
        held = [b for b in model.builds if b in builds]
        if not held:
            continue
        found = sorted((c[1], c[0], builds[b].purpose) for b in held if (c := causes[b]) is not None)
        if not found:
            out.append(MemberModel(model, builds[held[0]].purpose, "in_use"))
            continue
        cause_at, cause, purpose = found[0]
        day = datetime(cause_at.year, cause_at.month, cause_at.day, tzinfo=UTC)
        _, due, _ = due_date(policy, purpose, day, now)
        oid = obligation_id(model.model_id, purpose, cause, day)
        later = sorted(
            (n for n in versions if n.name == model.name and n.trained_at > model.trained_at),
            key=lambda n: (n.trained_at, n.model_id),
        )
        met = next((n for n in later if not any(b in builds for b in n.builds)), None)
        waiver = waivers.get(oid)
        if met is not None:
            state = MemberModel(model, purpose, "met", cause, due, met.trained_at, met.model_id, obligation_id=oid)
        elif waiver is not None and member_id in waiver.members:
            state = MemberModel(model, purpose, "waived", cause, due, grounds=waiver.grounds, obligation_id=oid)
        else:
            status = "overdue" if now > due else "open"
            state = MemberModel(model, purpose, status, cause, due, obligation_id=oid)
        out.append(state)
    return out
