"""Forgetting obligations: each withdrawal, objection, closure or deletion against each model it reaches.

A member whose data is in a build a model version was trained on, and whom the
rules exclude now, opens an obligation against that version: retrain without
them within the purpose's `forget_within_days`. Obligations are computed, never
stored: from the models, their builds' member sets and the ledger, as of a
moment. One obligation gathers the members of one model version, purpose and
cause whose cause arose on the same UTC day; it is

- `met` when a later version of the same model (trained later, registered by
  then) was trained only on builds whose member sets hold none of its members
  (checked against the member sets, member by member);
- `waived` when staff waived it, with grounds, for every member it holds;
- `overdue` past `due_by`, else `open`.

`due_by` is the start of the cause's UTC day plus `forget_within_days` of the
version in effect then; a later version lowering the days moves it earlier
(never before that version took effect) and the change is listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import ModelError, NotFoundError
from consentry.pipeline.forgetting import Computed, Scope, compute, scope_of
from consentry.pipeline.models import resolve_models
from consentry.policy import Policy
from consentry.policy.models import DEFAULT_FORGET_WITHIN_DAYS
from consentry.store.models import ModelRecord, Waiver
from consentry.store.protocol import Store
from consentry.timeutil import iso, utc, utcnow

__all__ = [
    "OPEN_STATUSES",
    "DueChange",
    "Obligation",
    "obligation_id",
    "obligation_members",
    "obligations",
    "waive_obligation",
]

#: The statuses of an obligation not yet discharged
OPEN_STATUSES = ("open", "overdue")
#: The cause of records deleted at the source (found by `builds stale`), listed by count, not by member
RECORD_DELETED = "RECORD_DELETED"


def obligation_id(model_id: str, purpose: str, cause: str, day: datetime) -> str:
    """The id of the obligation of a model version, purpose, cause and UTC day: the same on every computation."""
    key = f"{model_id}\x00{purpose}\x00{cause}\x00{day.date().isoformat()}"
    return "ob-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DueChange:
    """A policy version that lowered `forget_within_days` on an obligation, and what it did to `due_by`."""

    policy_version: str
    effective_at: datetime
    forget_within_days: int
    due_by_was: datetime
    due_by: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "policy_version": self.policy_version,
            "effective_at": iso(self.effective_at),
            "forget_within_days": self.forget_within_days,
            "due_by_was": iso(self.due_by_was),
            "due_by": iso(self.due_by),
        }


@dataclass(frozen=True)
class Obligation:
    """What a model version owes the members whose data it holds and who took it back."""

    obligation_id: str
    model: ModelRecord
    purpose: str
    cause: str
    arose_at: datetime
    members: tuple[str, ...]
    member_count: int
    records: int
    builds: tuple[str, ...]
    forget_within_days: int
    due_by: datetime
    status: str
    due_by_changes: tuple[DueChange, ...] = ()
    met_by: str | None = None
    met_at: datetime | None = None
    members_met: int = 0
    waiver: Waiver | None = None

    def to_dict(self, *, members: bool = True) -> dict[str, Any]:
        """JSON-able form; `members=False` leaves the member ids out (counts stay)."""
        out: dict[str, Any] = {
            "obligation_id": self.obligation_id,
            "model_id": self.model.model_id,
            "model": {"name": self.model.name, "version": self.model.version},
            "purpose": self.purpose,
            "cause": self.cause,
            "arose_at": iso(self.arose_at),
            "members_affected": self.member_count,
            "records_affected": self.records,
            "builds": list(self.builds),
            "forget_within_days": self.forget_within_days,
            "due_by": iso(self.due_by),
            "due_by_changes": [c.to_dict() for c in self.due_by_changes],
            "status": self.status,
            "met_by": self.met_by,
            "met_at": iso(self.met_at),
            "members_met": self.members_met,
            "waiver": None
            if self.waiver is None
            else {"waived_at": iso(self.waiver.waived_at), "actor": self.waiver.actor, "grounds": self.waiver.grounds},
        }
        if members:
            out["members"] = list(self.members)
        return out


def _day(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


def _days(policy: Policy, purpose: str, at: datetime) -> int:
    version = policy.version_at(at)
    rule = version.spec.purposes.get(purpose) if version else None
    return rule.forget_within_days or DEFAULT_FORGET_WITHIN_DAYS if rule else DEFAULT_FORGET_WITHIN_DAYS


def due_date(policy: Policy, purpose: str, day: datetime, now: datetime) -> tuple[int, datetime, list[DueChange]]:
    """(days, due_by, changes) for a cause on `day`: the days in effect then, lowered by later versions up to now."""
    days = _days(policy, purpose, day)
    due = day + timedelta(days=days)
    changes = []
    for version in policy.versions:
        if not day < version.effective_at <= now:
            continue
        lowered = _days(policy, purpose, version.effective_at)
        if lowered < days:
            new_due = max(day + timedelta(days=lowered), version.effective_at)
            if new_due < due:
                changes.append(DueChange(version.version, version.effective_at, lowered, due, new_due))
                due = new_due
            days = lowered
    return days, due, changes


def _deletion_groups(scope: Scope, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Groups for records deleted at the source, as the last `builds stale` check found them (counts only).

    Met by a later version all of whose builds were decided after that check:
    a build excludes every record deleted by its own moment.
    """
    groups: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for m in scope.models:
        for build_id in m.builds:
            checked_at, deleted = store.builds.deletions(build_id)
            if checked_at is None or checked_at > now or not deleted or not deleted["records"]:
                continue
            purpose = scope.builds[build_id].purpose
            g = groups.setdefault(
                (m.model_id, purpose, _day(checked_at)),
                {"arose_at": checked_at, "members": 0, "records": 0, "builds": []},
            )
            g["arose_at"] = min(g["arose_at"], checked_at)
            g["members"] += deleted["members"]
            g["records"] += deleted["records"]
            g["builds"].append(build_id)
    out = []
    for (model_id, purpose, day), g in groups.items():
        model = next(m for m in scope.models if m.model_id == model_id)
        latest_check = max(store.builds.deletions(b)[0] or g["arose_at"] for b in g["builds"])
        later = sorted(
            (
                n
                for n in scope.models
                if n.name == model.name
                and n.trained_at > model.trained_at
                and all((scope.builds[b].decided_at or scope.builds[b].created_at) >= latest_check for b in n.builds)
            ),
            key=lambda n: n.trained_at,
        )
        met = later[0] if later else None
        out.append(
            {
                "model_id": model_id,
                "purpose": purpose,
                "cause": RECORD_DELETED,
                "day": day,
                "arose_at": g["arose_at"],
                "members": g["members"],
                "records": g["records"],
                "member_ids": [],
                "members_met": g["members"] if met else 0,
                "met_at": met.trained_at if met else None,
                "met_by": met.model_id if met else None,
                "builds": sorted(g["builds"]),
            }
        )
    return out


def _obligation(g: dict[str, Any], models: dict[str, ModelRecord], policy: Policy, now: datetime,
                waivers: dict[str, Waiver]) -> Obligation:  # fmt: skip
    day = utc(g["day"])
    days, due, changes = due_date(policy, g["purpose"], day, now)
    oid = obligation_id(g["model_id"], g["purpose"], g["cause"], day)
    members = tuple(g["member_ids"])
    waiver = waivers.get(oid)
    if waiver is not None and waiver.waived_at > now:
        waiver = None
    covered = waiver is not None and set(members) <= waiver.members
    if g["met_by"] is not None:
        status = "met"
    elif covered:
        status = "waived"
    else:
        status = "overdue" if now > due else "open"
    return Obligation(
        obligation_id=oid,
        model=models[g["model_id"]],
        purpose=g["purpose"],
        cause=g["cause"],
        arose_at=utc(g["arose_at"]),
        members=members,
        member_count=int(g["members"]),
        records=int(g["records"]),
        builds=tuple(g["builds"]),
        forget_within_days=days,
        due_by=due,
        status=status,
        due_by_changes=tuple(changes),
        met_by=g["met_by"],
        met_at=utc(g["met_at"]) if g["met_at"] is not None else None,
        members_met=int(g["members_met"]),
        waiver=waiver,
    )


def obligations(
    store: Store,
    *,
    as_of: datetime | None = None,
    model: str | None = None,
    overdue: bool = False,
) -> list[Obligation]:
    """Every forgetting obligation as of `as_of` (default now), by due date.

    `model` (an id, NAME@VERSION or NAME) keeps the obligations of that
    model's versions (NotFoundError if it names none); `overdue` only those
    past their due date and not met nor waived.
    """
    now = utc(as_of) if as_of is not None else utcnow()
    found, _ = _computed(store, model, now)
    return [o for o in found if o.status == "overdue"] if overdue else found


def _computed(
    store: Store, model: str | None, now: datetime, *, rows: bool = False
) -> tuple[list[Obligation], Computed]:
    """Every obligation at `now` (of `model`'s versions, when given), by due date, and the member rows if `rows`."""
    scope = scope_of(store, model, now)
    if not scope.models:
        return [], Computed([], {})
    computed = compute(store, scope, now, rows=rows)
    groups = list(computed.groups)
    groups += _deletion_groups(scope, store, now)
    models = {m.model_id: m for m in scope.models}
    if model is not None:
        wanted = {m.model_id for m in resolve_models(store, model)}
        groups = [g for g in groups if g["model_id"] in wanted]
    policy = store.policy()
    waivers = {w.obligation_id: w for w in store.models.waivers()}
    found = [_obligation(g, models, policy, now, waivers) for g in groups]
    found.sort(key=lambda o: (o.due_by, o.model.name, o.model.version, o.cause, o.obligation_id))
    return found, computed


def obligation_members(store: Store, *, model: str | None = None, as_of: datetime | None = None) -> pa.Table:
    """The members behind every open or overdue obligation, build by build.

    Columns: obligation_id, model_id, build_id, member_id, records (the
    member's records in that build), cause, due_by; sorted by model, build and
    member. A build's rows are exactly the members to leave out when it is
    retrained on. Deleted records (counted, not listed by member) are not here.
    """
    now = utc(as_of) if as_of is not None else utcnow()
    found, computed = _computed(store, model, now, rows=True)
    still_open = {
        (o.model.model_id, o.purpose, o.cause, _day(o.arose_at)): o for o in found if o.status in OPEN_STATUSES
    }
    parts = []
    for model_id, rows in computed.rows.items():
        keys = zip(rows.column("purpose").to_pylist(), rows.column("cause").to_pylist(),
                   rows.column("day").to_pylist(), strict=True)  # fmt: skip
        hits = [still_open.get((model_id, p, c, utc(d))) for p, c, d in keys]
        keep = pa.array([h is not None for h in hits], pa.bool_())
        chosen = [h for h in hits if h is not None]
        parts.append(
            pa.table(
                {
                    "obligation_id": pa.array([h.obligation_id for h in chosen], pa.string()),
                    "model_id": pa.repeat(model_id, len(chosen)),
                    "build_id": pc.filter(rows.column("build_id"), keep),
                    "member_id": pc.filter(rows.column("member_id"), keep),
                    "records": pc.filter(rows.column("records"), keep),
                    "cause": pc.filter(rows.column("cause"), keep),
                    "due_by": pa.array([h.due_by for h in chosen], pa.timestamp("us", tz="UTC")),
                }
            )
        )
    if not parts:
        return _MEMBERS_SCHEMA.empty_table()
    table = pa.concat_tables(parts).cast(_MEMBERS_SCHEMA)
    return table.sort_by([("model_id", "ascending"), ("build_id", "ascending"), ("member_id", "ascending")])


_MEMBERS_SCHEMA = pa.schema(
    [
        ("obligation_id", pa.string()),
        ("model_id", pa.string()),
        ("build_id", pa.string()),
        ("member_id", pa.string()),
        ("records", pa.int64()),
        ("cause", pa.string()),
        ("due_by", pa.timestamp("us", tz="UTC")),
    ]
)


def waive_obligation(
    store: Store,
    obligation: str,
    *,
    grounds: str,
    actor: str,
    now: datetime | None = None,
) -> Obligation:
    """Waive an open or overdue obligation, with recorded grounds; the obligation as it stands after.

    The waiver covers the obligation's members at this moment. NotFoundError
    for an unknown obligation, ModelError for one met or waived already, or
    empty grounds; nothing is written then.
    """
    from consentry.bounds import check_id, check_text

    now = utc(now) if now is not None else utcnow()
    check_id(actor, "--actor")
    if not grounds or not grounds.strip():
        raise ModelError("--grounds: say why the obligation is waived; the grounds are recorded")
    check_text(grounds, "--grounds")
    found = next((o for o in obligations(store, as_of=now) if o.obligation_id == obligation), None)
    if found is None:
        raise NotFoundError(f"no obligation {obligation!r}; `consentry models obligations` lists them")
    if found.status not in OPEN_STATUSES:
        raise ModelError(f"obligation {obligation} is {found.status}; only an open or overdue one can be waived")
    store.models.waive(Waiver(obligation, found.model.model_id, now, actor, grounds.strip(), frozenset(found.members)))
    return next(o for o in obligations(store, as_of=now) if o.obligation_id == obligation)
