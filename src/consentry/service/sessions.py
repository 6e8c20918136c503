"""Sign-in sessions of the member pages and the staff console, kept in the store.

The cookie carries only a random token (signed, HTTP-only); the store keeps its
SHA-256 with who signed in and when. So a session ends for every worker process
at once — on sign-out, on "sign out everywhere", when a staff key is revoked —
and a cookie copied before that no longer works. A session also ends after
`idle_s` without a request, and `absolute_s` after sign-in, whichever comes first.

Sessions run on real time, never on the service's pinned demo clock: they are
about security, not about the moment the rules are taken from.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta
from enum import StrEnum

from consentry.store.protocol import SessionRecord, Sessions

__all__ = ["SessionBook", "SessionKind"]

#: Activity is written at most this often per session (an idle timeout needs no finer grain).
_TOUCH_EVERY = timedelta(seconds=60)
#: Every this many sign-ins, sessions that can no longer be valid are deleted.
_PURGE_EVERY = 256
_MAX_TOKEN = 100


class SessionKind(StrEnum):
    """Whose session: a member's (member id) or a staff console's (staff key id)."""

    MEMBER = "member"
    STAFF = "staff"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionBook:
    """Opens, checks and ends sessions in the store, with idle and absolute timeouts."""

    def __init__(self, sessions: Sessions, idle_s: int, absolute_s: int):
        self._sessions = sessions
        self.idle = timedelta(seconds=idle_s)
        self.absolute = timedelta(seconds=absolute_s)
        self._touch_every = min(_TOUCH_EVERY, self.idle / 10)
        self._opened = 0
        self._lock = threading.Lock()

    def open(self, kind: SessionKind, subject: str, at: datetime) -> str:
        """Start a session for `subject`; returns its token (for the cookie only, never stored)."""
        token = secrets.token_urlsafe(32)
        self._sessions.open(SessionRecord(_digest(token), kind.value, subject, at, at))
        with self._lock:
            self._opened += 1
            purge = self._opened % _PURGE_EVERY == 0
        if purge:
            self._sessions.purge(at - max(self.idle, self.absolute))
        return token

    def subject(self, token: object, kind: SessionKind, at: datetime) -> str | None:
        """Who the session is for, if it is live at `at`; an expired one is ended on the way."""
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
            return None
        digest = _digest(token)
        record = self._sessions.get(digest)
        if record is None or record.kind != kind.value or record.ended_at is not None:
            return None
        if at - record.created_at >= self.absolute or at - record.seen_at >= self.idle:
            self._sessions.end(digest, at)
            return None
        if at - record.seen_at >= self._touch_every:
            self._sessions.touch(digest, at)
        return record.subject

    def end(self, token: object, at: datetime) -> None:
        """End the session of this token (nothing happens for an unknown or ended one)."""
        if isinstance(token, str) and token and len(token) <= _MAX_TOKEN:
            self._sessions.end(_digest(token), at)

    def end_all(self, kind: SessionKind, subject: str, at: datetime) -> int:
        """End every session of `subject` ("sign out everywhere"); how many were live."""
        return self._sessions.end_all(kind.value, subject, at)
