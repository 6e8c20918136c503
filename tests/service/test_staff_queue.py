"""The staff queue: search, assignment to a member of staff, order by due date, pages; each action confirmed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import StaffRole, member_actions, staff_actions
from consentry.service.i18n import case_reference
from consentry.store import SqlStore
from consentry.vocab import CaseStatus

from .conftest import CLOCK

StaffKey = Callable[[StaffRole], dict[str, str]]
ROWS = re.compile(r'<tr data-case="(obj_[0-9a-f]+)"')


def _cases(store: SqlStore) -> list[str]:
    """Five open cases, filed 1 to 45 days before the clock (so due in that order, oldest first)."""
    out = []
    for days, member in [(45, "us-alice"), (20, "us-bob"), (10, "de-dora"), (5, "gb-gary"), (1, "us-alice")]:
        case = member_actions.file_objection(
            store, member, ["personalization"], CLOCK - timedelta(days=days), f"note from {member}"
        )
        out.append(case.case_id)
    return out


def test_queue_pages_sorts_searches_and_filters_by_assignee(svc_store: SqlStore) -> None:
    ids = _cases(svc_store)
    page = staff_actions.queue_page(svc_store, CLOCK, per_page=2)
    assert ([i.case.case_id for i in page.items], page.total, page.pages) == (ids[:2], 5, 3)
    last = staff_actions.queue_page(svc_store, CLOCK, per_page=2, page=99)
    assert (last.page, [i.case.case_id for i in last.items]) == (3, ids[4:])
    latest = staff_actions.queue_page(svc_store, CLOCK, sort=staff_actions.QueueSort.DUE_LAST)
    assert [i.case.case_id for i in latest.items] == ids[::-1]
    assert [i.case.case_id for i in staff_actions.queue_page(svc_store, CLOCK, query="dora").items] == [ids[2]]
    by_reference = staff_actions.queue_page(svc_store, CLOCK, query=case_reference(ids[3]))
    assert [i.case.case_id for i in by_reference.items] == [ids[3]]
    staff_actions.assign_case(svc_store, ids[1], "  Ana   Ruiz ", CLOCK, "staff:k1")
    mine = staff_actions.queue_page(svc_store, CLOCK, assignee="ana ruiz")
    assert [(i.case.case_id, i.assignee) for i in mine.items] == [(ids[1], "Ana Ruiz")]
    assert len(staff_actions.queue_page(svc_store, CLOCK, assignee=staff_actions.UNASSIGNED).items) == 4
    assert staff_actions.queue_page(svc_store, CLOCK, query="ruiz").items[0].case.case_id == ids[1]
    assert mine.assignees == ("Ana Ruiz",)


def test_reviewers_assign_from_the_console_and_are_told_it_is_done(
    app: FastAPI, svc_store: SqlStore, staff_key: StaffKey
) -> None:
    ids = _cases(svc_store)
    reviewer, viewer = staff_key(StaffRole.REVIEWER), staff_key(StaffRole.VIEWER)
    with TestClient(app) as c:
        r = c.post(
            f"/admin/objections/{ids[2]}/assignment",
            data={"assignee": "Ana"},
            headers={**reviewer, "Referer": "http://testserver/admin/objections?sort=-due&page=1"},
            follow_redirects=False,
        )
        assert (r.status_code, r.headers["location"]) == (303, "/admin/objections?sort=-due&page=1")
        page = c.get("/admin/objections?assignee=Ana", headers=reviewer).text
        assert ROWS.findall(page) == [ids[2]]
        assert f"Case {case_reference(ids[2])} assigned to Ana." in page
        assert "1 open case matches." in page
        assert (
            c.post(f"/admin/objections/{ids[2]}/assignment", data={"assignee": "Ben"}, headers=viewer).status_code
            == 403
        )
        c.post(f"/admin/objections/{ids[2]}/assignment", data={"assignee": ""}, headers=reviewer)
        assert svc_store.assignments.all() == {}
        svc_store.decide_objection(ids[0], CaseStatus.UPHELD, CLOCK, actor="t")
        assert (
            c.post(f"/admin/objections/{ids[0]}/assignment", data={"assignee": "Ana"}, headers=reviewer).status_code
            == 422
        )
        paged = c.get("/admin/objections?page=2", headers=reviewer).text
        assert ROWS.findall(paged.split('class="closed"')[0]) == ids[1:]  # past the last page: the last page
    actions = [(e.action, e.outcome) for e in svc_store.audit.latest(50) if e.action == "objection.assign"]
    assert actions.count(("objection.assign", "ok")) == 2 and ("objection.assign", "refused") in actions
