"""The notice-period banner: what a new policy version changes for one member, and from when.

While a version's notice runs (from its `published_at` until it governs and its
notice has been served, whichever is later), a member whose uses it changes is
told so. What changes is computed from the policy, for the member's country:
each purpose whose mode differs between the version before and the new one
(disclosed or not, excluded, opt-in or opt-out). The words come from the
version's `notice` text, in the member's language when the policy has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentry.policy import Policy, PolicyVersion
from consentry.vocab import Control, Mode

__all__ = ["ModeChange", "NoticeBanner", "notice_for"]


@dataclass(frozen=True)
class ModeChange:
    """One purpose whose mode changes for the member (None: not disclosed)."""

    purpose: str
    before: Mode | None
    after: Mode | None
    control: Control | None

    @property
    def starts_use(self) -> bool:
        """Does the new version bring in a use of the member's data that was not made before?"""
        was_used = self.before in (Mode.OPT_OUT, Mode.OPT_IN)
        return not was_used and self.after in (Mode.OPT_OUT, Mode.OPT_IN)

    @property
    def can_turn_off_now(self) -> bool:
        """Can the member turn it off before it starts, with the new version's setting?"""
        return self.starts_use and self.after is Mode.OPT_OUT and self.control is Control.SETTING


@dataclass(frozen=True)
class NoticeBanner:
    """A version in its notice period, and what it changes for one member."""

    version: PolicyVersion
    effective_at: datetime
    starts_at: datetime
    changes: tuple[ModeChange, ...]

    def text(self, language: str | None) -> str | None:
        """The version's own words for the banner, in `language` when it has them."""
        return self.version.notice(language)


def notice_for(policy: Policy, country: str | None, at: datetime) -> NoticeBanner | None:
    """The latest version whose notice runs at `at` and that changes something for `country`, if any."""
    for k in range(len(policy.versions) - 1, -1, -1):
        v = policy.versions[k]
        ends = max(v.effective_at, v.notice_ends_at)
        if not (v.published_at <= at < ends):
            continue
        before = policy.versions[k - 1] if k > 0 else None
        changes = tuple(_changes(before, v, country))
        if changes:
            return NoticeBanner(v, v.effective_at, ends, changes)
    return None


def _changes(before: PolicyVersion | None, after: PolicyVersion, country: str | None) -> list[ModeChange]:
    names = sorted(set(after.purposes) | set(before.purposes if before is not None else ()))
    out = []
    for name in names:
        old = before.mode_for(name, country) if before is not None else None
        new = after.mode_for(name, country)
        if old is not new:
            rule = after.purpose(name)
            out.append(ModeChange(name, old, new, rule.control if rule is not None else None))
    return out
