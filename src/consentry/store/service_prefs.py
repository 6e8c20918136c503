"""Small records of the web service's (`Store.languages`, `Store.flashes`, `Store.assignments`).

The language each member chose for the member pages, the one-time
confirmations waiting for a session's next page, and who on the privacy staff
handles an objection case. Which languages exist and who may assign are
the service's; this module only stores and loads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from consentry.store.database import insert_or_on_conflict, transaction
from consentry.store.schema import case_assignments, flashes, member_languages, to_us

__all__ = ["SqlCaseAssignments", "SqlFlashes", "SqlMemberLanguages"]


class SqlMemberLanguages:
    """`MemberLanguages` in the `member_languages` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, member_id: str) -> str | None:
        """The language the member chose, or None when they chose none."""
        with transaction(self._engine) as c:
            row = c.execute(
                select(member_languages.c.language).where(member_languages.c.member_id == member_id)
            ).first()
        return str(row[0]) if row is not None else None

    def set(self, member_id: str, language: str | None, at: datetime) -> None:
        """Record the member's choice at `at`; None forgets it (the browser's language applies again)."""
        with transaction(self._engine, write=True) as c:
            if language is None:
                c.execute(delete(member_languages).where(member_languages.c.member_id == member_id))
                return
            stmt = insert_or_on_conflict(c, member_languages).values(
                member_id=member_id, language=language, set_us=to_us(at)
            )
            c.execute(
                stmt.on_conflict_do_update(
                    index_elements=["member_id"], set_={"language": language, "set_us": to_us(at)}
                )
            )


class SqlFlashes:
    """`Flashes` in the `service_flashes` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def push(self, session_sha256: str, message: str, at: datetime) -> None:
        """Keep `message` for the next page of the session with this token digest."""
        with transaction(self._engine, write=True) as c:
            c.execute(insert(flashes).values(session_sha256=session_sha256, message=message, created_us=to_us(at)))

    def pop(self, session_sha256: str) -> list[str]:
        """The session's waiting messages, oldest first, forgotten as they are read (no write when none wait)."""
        where = flashes.c.session_sha256 == session_sha256
        with transaction(self._engine) as c:
            if c.execute(select(flashes.c.id).where(where).limit(1)).first() is None:
                return []
        with transaction(self._engine, write=True) as c:
            rows = c.execute(select(flashes.c.id, flashes.c.message).where(where).order_by(flashes.c.id)).all()
            c.execute(delete(flashes).where(flashes.c.id.in_([r[0] for r in rows])))
        return [str(r[1]) for r in rows]


class SqlCaseAssignments:
    """`CaseAssignments` in the `objection_case_assignments` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def assign(self, case_id: str, assignee: str | None, at: datetime, by: str) -> None:
        """Assign the case to `assignee` (a staff name or id) at `at`; None unassigns it."""
        with transaction(self._engine, write=True) as c:
            if assignee is None:
                c.execute(delete(case_assignments).where(case_assignments.c.case_id == case_id))
                return
            values = {"assignee": assignee, "assigned_us": to_us(at), "assigned_by": by}
            stmt = insert_or_on_conflict(c, case_assignments).values(case_id=case_id, **values)
            c.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_=values))

    def all(self) -> dict[str, str]:
        """Every assigned case id with its assignee."""
        with transaction(self._engine) as c:
            rows = c.execute(select(case_assignments.c.case_id, case_assignments.c.assignee)).all()
        return {str(case_id): str(assignee) for case_id, assignee in rows}
