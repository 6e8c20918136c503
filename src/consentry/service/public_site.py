"""The demo's public web tier: members' profiles and public posts, each page carrying its member's signals.

`consentry serve --demo` serves `/in/{member_id}` and `/posts/{record_id}`
the way a platform's web tier would: through
`consentry.signals.asgi.ReservationHeaders`, which asks `ServiceContext.signals_async`
for the member a page belongs to (`PublicPosts.member_of`). The posts are the
public records of a content-lake file (JSONL, `CONSENTRY_PUBLIC_LAKE`; the demo's
own lake by default).
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from consentry.errors import ConfigError

__all__ = ["PublicPost", "PublicPosts"]

_PROFILE, _POST = "/in/", "/posts/"


@dataclass(frozen=True)
class PublicPost:
    """One public record shown on the site."""

    record_id: str
    member_id: str
    kind: str
    created_at: str
    text: str


class PublicPosts:
    """The site's public posts by id and by member."""

    def __init__(self, posts: list[PublicPost] | None = None) -> None:
        self._by_id = {p.record_id: p for p in posts or []}
        self._by_member: dict[str, list[PublicPost]] = {}
        for p in self._by_id.values():
            self._by_member.setdefault(p.member_id, []).append(p)

    @classmethod
    def from_jsonl(cls, path: Path) -> PublicPosts:
        """The public records of a content-lake JSONL file (rows that are not plainly public are not shown)."""
        posts: list[PublicPost] = []
        try:
            with path.open(encoding="utf-8") as f:
                for line in f:
                    post = _public_post(line)
                    if post is not None:
                        posts.append(post)
        except OSError as e:
            raise ConfigError(f"CONSENTRY_PUBLIC_LAKE: cannot read {path}: {e.strerror}") from None
        return cls(posts)

    def post(self, record_id: str) -> PublicPost | None:
        """A public post by id."""
        return self._by_id.get(record_id)

    def by_member(self, member_id: str, limit: int = 20) -> list[PublicPost]:
        """A member's public posts, newest first."""
        return sorted(self._by_member.get(member_id, []), key=lambda p: p.created_at, reverse=True)[:limit]

    def member_of(self, scope: MutableMapping[str, Any]) -> str | None:
        """The member whose page a request shows: the profile's owner or the post's author (None: no member's page)."""
        path: str = scope.get("path", "")
        if path.startswith(_PROFILE) and len(path) > len(_PROFILE):
            return unquote(path[len(_PROFILE) :])
        if path.startswith(_POST):
            post = self._by_id.get(unquote(path[len(_POST) :]))
            return post.member_id if post is not None else None
        return None


def _public_post(line: str) -> PublicPost | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    if not isinstance(row, dict) or row.get("visibility") != "public" or row.get("deleted_at"):
        return None
    fields = [row.get(k) for k in ("record_id", "member_id", "kind", "created_at", "text")]
    texts = [v for v in fields if isinstance(v, str) and v]
    if len(texts) != len(fields):
        return None
    return PublicPost(*texts)
