"""The site-wide files: `robots.txt` with aipref `Content-Usage` rules, and `/.well-known/tdmrep.json`.

Members' pages carry their own reservation as headers. The site-wide files
speak for everything else: the paths a platform lists as its own (`reserved`,
e.g. `/static/`) are reserved in every category the policy publishes, and the
paths of members' pages (`member_paths`) get no site-wide rule, so each page's
headers are all that is said about it. Areas behind a sign-in (`private`) are
not crawled at all. An aipref rule is `Content-Usage: <path> <preferences>`
(draft-ietf-aipref-attach, section 3); TDMRep's file is a JSON array of
`{location, tdm-reservation, tdm-policy}` rules, which a page's own
`tdm-reservation` header overrides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from consentry.policy import Policy
from consentry.signals.headers import content_usage
from consentry.signals.reservation import signal_purposes
from consentry.vocab import SignalKind

__all__ = ["SiteLayout", "robots_txt", "tdmrep_json"]


@dataclass(frozen=True)
class SiteLayout:
    """Which paths of the site hold what (path prefixes, each starting with `/`)."""

    member_paths: Sequence[str] = ("/in/", "/posts/")
    reserved: Sequence[str] = ("/static/",)
    private: Sequence[str] = ("/settings/", "/admin/", "/demo/", "/v1/")


def _published(policy: Policy, at: datetime, kind: SignalKind) -> set[str]:
    out: set[str] = set()
    for signals in signal_purposes(policy, at).values():
        out.update(signals.get(kind, ()))
    return out


def robots_txt(policy: Policy, at: datetime, layout: SiteLayout | None = None) -> str:
    """The site's robots.txt: crawl rules, and a `Content-Usage` rule per path the site reserves itself."""
    layout = layout or SiteLayout()
    lines = [
        "# Members' choices about AI training are sent with each of their pages:",
        "# Content-Usage, tdm-reservation and X-Robots-Tag response headers.",
        "User-Agent: *",
    ]
    lines += [f"Allow: {p}" for p in [*layout.member_paths, *layout.reserved]]
    lines += [f"Disallow: {p}" for p in layout.private]
    usage = content_usage(_published(policy, at, SignalKind.AIPREF))
    if usage:
        lines += [f"Content-Usage: {p} {usage}" for p in layout.reserved]
    return "\n".join(lines) + "\n"


def tdmrep_json(policy: Policy, at: datetime, layout: SiteLayout | None = None) -> str:
    """The site's `/.well-known/tdmrep.json`: the paths the site reserves itself (empty without tdmrep signals)."""
    layout = layout or SiteLayout()
    version = policy.version_at(at)
    rules: list[dict[str, object]] = []
    if _published(policy, at, SignalKind.TDMREP):
        for path in layout.reserved:
            rule: dict[str, object] = {"location": f"{path}*", "tdm-reservation": 1}
            if version is not None:
                rule["tdm-policy"] = version.terms_url
            rules.append(rule)
    return json.dumps(rules, indent=2) + "\n"
