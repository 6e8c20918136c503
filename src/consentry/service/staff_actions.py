"""What privacy staff see: the objection queue, the policy timeline, builds at a glance.

The logic behind the staff console and the staff JSON API, kept out of the
handlers: ordering and flags of the objection queue, the changes each policy
version brings, and the per-reason counts of builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentry.errors import InputError
from consentry.pipeline import BuildRecord, StaleBuild, list_builds, stale_builds
from consentry.policy import Policy, PolicyVersion
from consentry.store.protocol import ObjectionCase, Store
from consentry.timeutil import iso
from consentry.vocab import CaseStatus, Mode

__all__ = [
    "BuildRow",
    "QueueItem",
    "QueuePage",
    "QueueSort",
    "RegionChange",
    "VersionEntry",
    "assign_case",
    "build_rows",
    "case_to_dict",
    "objection_queue",
    "policy_timeline",
    "queue_page",
]


@dataclass(frozen=True)
class QueueItem:
    """One open objection case in the staff queue."""

    case: ObjectionCase
    overdue: bool
    extendable: bool
    days_left: int
    assignee: str | None = None


class QueueSort(StrEnum):
    """The orders the staff queue can be read in."""

    DUE = "due"  # earliest due first: what must be decided next
    DUE_LAST = "-due"
    RECEIVED = "received"  # oldest first
    RECEIVED_LAST = "-received"


#: Who the queue is filtered to: anyone, nobody (unassigned) or one assignee.
ANY_ASSIGNEE = ""
UNASSIGNED = "-"


@dataclass(frozen=True)
class QueuePage:
    """One page of the open cases that match a search, in the chosen order."""

    items: tuple[QueueItem, ...]
    total: int
    page: int
    pages: int
    per_page: int
    query: str
    assignee: str
    sort: QueueSort
    assignees: tuple[str, ...]


def _matches(item: QueueItem, words: list[str]) -> bool:
    c = item.case
    haystack = " ".join(
        [c.case_id, c.case_id.removeprefix("obj_"), c.member_id, *c.purposes, c.text or "", item.assignee or ""]
    ).lower()
    return all(w in haystack for w in words)


def queue_page(
    store: Store,
    at: datetime,
    *,
    query: str = "",
    assignee: str = ANY_ASSIGNEE,
    sort: QueueSort = QueueSort.DUE,
    page: int = 1,
    per_page: int = 20,
) -> QueuePage:
    """The open cases matching `query` (every word, in the case id or reference, member id, uses, text
    or assignee) and `assignee`, sorted by `sort`, `per_page` to a page (`page` is clamped to the last)."""
    assigned = store.assignments.all()
    items = [replace(i, assignee=assigned.get(i.case.case_id)) for i in objection_queue(store, at)]
    words = [w for w in query.lower().replace("-", " ").split() if w != "obj"]
    if words:
        items = [i for i in items if _matches(i, words)]
    if assignee == UNASSIGNED:
        items = [i for i in items if i.assignee is None]
    elif assignee:
        items = [i for i in items if (i.assignee or "").lower() == assignee.lower()]
    by_received = sort in (QueueSort.RECEIVED, QueueSort.RECEIVED_LAST)
    items.sort(
        key=lambda i: (i.case.received_at if by_received else i.case.due_by, i.case.case_id),
        reverse=sort in (QueueSort.DUE_LAST, QueueSort.RECEIVED_LAST),
    )
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    shown = tuple(items[(page - 1) * per_page : page * per_page])
    names = tuple(sorted(set(assigned.values()), key=str.lower))
    return QueuePage(shown, len(items), page, pages, per_page, query, assignee, sort, names)


def assign_case(store: Store, case_id: str, assignee: str, at: datetime, by: str) -> ObjectionCase:
    """Assign an open case to a staff member (a name or id; blank unassigns). NotFoundError for an unknown
    case, InputError for a closed one or an over-long name."""
    case = store.objection(case_id)
    if case.status is not CaseStatus.RECEIVED:
        raise InputError("only open cases are assigned; this one is decided", field="assignee")
    name = " ".join(assignee.split())
    if len(name) > 255:
        raise InputError("keep the assignee under 255 characters", field="assignee")
    store.assignments.assign(case_id, name or None, at, by)
    return case


def case_to_dict(case: ObjectionCase) -> dict[str, Any]:
    """JSON-ready form of a case (ids and dates; the member's free text only for staff)."""
    return {
        "case_id": case.case_id,
        "member_id": case.member_id,
        "purposes": list(case.purposes),
        "received_at": iso(case.received_at),
        "due_by": iso(case.due_by),
        "status": case.status.value,
        "text": case.text,
        "policy_version": case.policy_version,
        "extended_at": iso(case.extended_at),
        "extension_reasons": case.extension_reasons,
        "decided_at": iso(case.decided_at),
        "grounds": case.grounds,
        "decided_by": case.decided_by,
    }


def objection_queue(store: Store, at: datetime, *, include_closed: bool = False) -> list[QueueItem]:
    """Cases sorted by due date (earliest first), overdue ones flagged.

    A case is extendable while it is open, not yet extended and still within its first period.
    """
    cases = store.objections() if include_closed else store.objections(status=CaseStatus.RECEIVED)
    items = []
    for case in sorted(cases, key=lambda c: (c.due_by, c.case_id)):
        is_open = case.status is CaseStatus.RECEIVED
        items.append(
            QueueItem(
                case=case,
                overdue=is_open and case.due_by < at,
                extendable=is_open and case.extended_at is None and at < case.due_by,
                days_left=(case.due_by - at).days,
            )
        )
    return items


@dataclass(frozen=True)
class RegionChange:
    """Countries whose mode for a purpose changed from one version to the next."""

    purpose: str
    before: str
    after: str
    countries: tuple[str, ...]


@dataclass(frozen=True)
class VersionEntry:
    """One policy version on the timeline."""

    version: str
    sha256: str
    published_at: datetime
    effective_at: datetime
    notice_ends_at: datetime
    notice_days: int
    terms_url: str
    purposes: Mapping[str, Mapping[str, Any]]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    region_changes: tuple[RegionChange, ...]
    in_effect: bool
    short_notice: bool = field(default=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": self.version,
            "sha256": self.sha256,
            "published_at": iso(self.published_at),
            "effective_at": iso(self.effective_at),
            "notice_ends_at": iso(self.notice_ends_at),
            "notice_days": self.notice_days,
            "terms_url": self.terms_url,
            "purposes": {k: dict(v) for k, v in self.purposes.items()},
            "added": list(self.added),
            "removed": list(self.removed),
            "region_changes": [
                {"purpose": c.purpose, "before": c.before, "after": c.after, "countries": list(c.countries)}
                for c in self.region_changes
            ],
            "in_effect": self.in_effect,
            "short_notice": self.short_notice,
        }


def _modes(v: PolicyVersion, purpose: str, countries: set[str]) -> dict[str, str]:
    """Mode per country for the named countries, plus "*" for every other country."""
    rule = v.purpose(purpose)
    if rule is None:
        return dict.fromkeys([*countries, "*"], "not disclosed")
    named = v.countries_with_rules(purpose)
    out = {c: named.get(c, rule.mode).value for c in countries}
    out["*"] = rule.mode.value
    return out


def _region_changes(prev: PolicyVersion | None, cur: PolicyVersion) -> tuple[RegionChange, ...]:
    if prev is None:
        return ()
    changes: list[RegionChange] = []
    for purpose in sorted(set(prev.purposes) | set(cur.purposes)):
        countries = set(prev.countries_with_rules(purpose)) | set(cur.countries_with_rules(purpose))
        before, after = _modes(prev, purpose, countries), _modes(cur, purpose, countries)
        grouped: dict[tuple[str, str], list[str]] = {}
        for c in sorted(countries | {"*"}):
            if before[c] != after[c]:
                grouped.setdefault((before[c], after[c]), []).append("everywhere else" if c == "*" else c)
        for (b, a), cs in sorted(grouped.items()):
            changes.append(RegionChange(purpose, b, a, tuple(cs)))
    return tuple(changes)


def _purpose_summary(v: PolicyVersion) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, rule in sorted(v.purposes.items()):
        excluded = sorted(c for c, m in v.countries_with_rules(name).items() if m is Mode.EXCLUDED)
        out[name] = {
            "label": rule.label,
            "legal_basis": rule.legal_basis.value,
            "control": rule.control.value,
            "mode": rule.mode.value,
            "excluded_countries": excluded,
            "min_age": rule.min_age,
            "gpc": rule.gpc,
        }
    return out


def policy_timeline(policy: Policy, at: datetime) -> list[VersionEntry]:
    """Every version in order of effect, with what it added, removed and changed by region."""
    current = policy.version_at(at)
    entries: list[VersionEntry] = []
    prev: PolicyVersion | None = None
    for v in policy.versions:
        entries.append(
            VersionEntry(
                version=v.version,
                sha256=v.sha256,
                published_at=v.published_at,
                effective_at=v.effective_at,
                notice_ends_at=v.notice_ends_at,
                notice_days=v.notice_days,
                terms_url=v.terms_url,
                purposes=_purpose_summary(v),
                added=tuple(sorted(set(v.purposes) - set(prev.purposes if prev else {}))),
                removed=tuple(sorted(set(prev.purposes if prev else {}) - set(v.purposes))),
                region_changes=_region_changes(prev, v),
                in_effect=current is not None and current.version == v.version,
                short_notice=v.effective_at < v.notice_ends_at,
            )
        )
        prev = v
    return entries


@dataclass(frozen=True)
class BuildRow:
    """A build as the console lists it: its counts per reason and whether it is stale."""

    build: BuildRecord
    included: int
    excluded: Mapping[str, int]
    stale: StaleBuild | None

    @property
    def build_id(self) -> str:
        return self.build.build_id


def _excluded_counts(counts: Mapping[str, Any]) -> dict[str, int]:
    excl = counts.get("excluded", {})
    if isinstance(excl, Mapping):
        return {str(k): int(v) for k, v in sorted(excl.items()) if int(v)}
    return {}


def build_rows(store: Store, now: datetime | None = None) -> list[BuildRow]:
    """Every registered build, newest first, with stale ones (as of `now`) marked."""
    stale = {s.build.build_id: s for s in stale_builds(store, now)}
    rows = []
    for b in sorted(list_builds(store), key=lambda b: b.created_at, reverse=True):
        rows.append(
            BuildRow(
                build=b,
                included=int(b.counts.get("included", 0)),
                excluded=_excluded_counts(b.counts),
                stale=stale.get(b.build_id),
            )
        )
    return rows
