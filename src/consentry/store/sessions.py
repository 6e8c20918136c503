"""Sign-in sessions as stored (`Store.sessions`): one row per session, keyed by the SHA-256 of its token.

When a session expires, and who may end it, are the service's; this module only stores, loads and ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from consentry.store.database import transaction
from consentry.store.protocol import SessionRecord
from consentry.store.schema import sessions, to_us, us_to_dt

__all__ = ["SqlSessions"]


class SqlSessions:
    """`Sessions` in the `service_sessions` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open(self, session: SessionRecord) -> None:
        """Store a new session."""
        with transaction(self._engine, write=True) as c:
            c.execute(
                insert(sessions).values(
                    token_sha256=session.token_sha256,
                    kind=session.kind,
                    subject=session.subject,
                    created_us=to_us(session.created_at),
                    seen_us=to_us(session.seen_at),
                    ended_us=to_us(session.ended_at) if session.ended_at is not None else None,
                )
            )

    def get(self, token_sha256: str) -> SessionRecord | None:
        """The session with this token digest, ended or not."""
        with transaction(self._engine) as c:
            row = c.execute(select(sessions).where(sessions.c.token_sha256 == token_sha256)).first()
        return _session(row) if row is not None else None

    def touch(self, token_sha256: str, at: datetime) -> None:
        """Record activity at `at` on a session not yet ended."""
        with transaction(self._engine, write=True) as c:
            c.execute(
                update(sessions)
                .where(sessions.c.token_sha256 == token_sha256, sessions.c.ended_us.is_(None))
                .values(seen_us=to_us(at))
            )

    def end(self, token_sha256: str, at: datetime) -> bool:
        """End one session at `at`; False if it was unknown or already ended."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(
                update(sessions)
                .where(sessions.c.token_sha256 == token_sha256, sessions.c.ended_us.is_(None))
                .values(ended_us=to_us(at))
            )
        return done.rowcount > 0

    def end_all(self, kind: str, subject: str, at: datetime) -> int:
        """End every open session of `subject` at `at`; how many were ended."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(
                update(sessions)
                .where(sessions.c.kind == kind, sessions.c.subject == subject, sessions.c.ended_us.is_(None))
                .values(ended_us=to_us(at))
            )
        return int(done.rowcount)

    def purge(self, seen_before: datetime) -> int:
        """Delete sessions last seen before `seen_before`; how many."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(delete(sessions).where(sessions.c.seen_us < to_us(seen_before)))
        return int(done.rowcount)


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        token_sha256=row.token_sha256,
        kind=row.kind,
        subject=row.subject,
        created_at=us_to_dt(row.created_us),
        seen_at=us_to_dt(row.seen_us),
        ended_at=us_to_dt(row.ended_us) if row.ended_us is not None else None,
    )
