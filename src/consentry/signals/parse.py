"""Parsing rights holders' signals, one kind at a time, into a state for training use.

Each parser answers, for the training of AI models (the use every purpose
that honours signals is checked against), one of the verdict characters of
`consentry.rules.reservations`: ``y`` allowed, ``n`` reserved, ``-`` nothing
said, ``?`` unreadable. Where signals disagree the most restrictive wins
(`combine`). Anything malformed is ``?`` — stricter than the specifications,
which often say "unknown": a build excludes what it cannot read.

- aipref (IETF draft-ietf-aipref-vocab and -attach): the ``Content-Usage``
  field is a Structured Fields dictionary (RFC 9651, parsed with ``http-sf``);
  its ``train-ai`` key (and ``train-genai`` of earlier drafts) with the token
  ``y`` or ``n``. Unknown keys and parameters are ignored, as the draft says;
  a dictionary that does not parse, or a training key whose value is not the
  token ``y`` or ``n``, is unreadable.
- robots.txt ``Content-Usage`` rules (draft-ietf-aipref-attach section 3; the
  aipref vocabulary, so they count as aipref):
  ``Content-Usage: <path> <usage-pref>`` in a group; the rule with the longest
  matching path applies, as for Allow/Disallow (RFC 9309), ``*`` and ``$``
  included; rules of every group count (we cannot know which crawler fetched
  the page, so a reservation addressed to any crawler is honoured).
- ``X-Robots-Tag``: the directives ``noai`` and ``noimageai`` reserve.
- TDMRep (W3C Community Group final report): the ``tdm-reservation`` header,
  ``1`` reserved and ``0`` not; the site's ``/.well-known/tdmrep.json``, an
  array of rules ``{"location", "tdm-reservation", "tdm-policy"}``, the first
  rule whose location matches the path applying.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import http_sf

from consentry.rules.reservations import ABSENT, ALLOWS, RESERVES, UNREADABLE

__all__ = [
    "TRAINING_KEYS",
    "PathRule",
    "aipref_state",
    "combine",
    "path_state",
    "robots_rules",
    "tdm_header_state",
    "tdmrep_rules",
    "x_robots_state",
]

#: The aipref categories that cover training: `train-ai` (draft-ietf-aipref-vocab-05 on) and `train-genai`
#: of the earlier drafts, still widely deployed.
TRAINING_KEYS = ("train-ai", "train-genai")
#: The X-Robots-Tag directives that reserve content from AI training.
X_ROBOTS_RESERVING = frozenset({"noai", "noimageai"})
#: A robots.txt file may be 500 KiB (RFC 9309); longer captured text is unreadable.
MAX_ROBOTS_BYTES = 500 * 1024
_CACHE = 4096


def combine(states: Iterable[str]) -> str:
    """The most restrictive of several states: reserved, else unreadable, else allowed, else nothing said."""
    seen = set(states)
    for state in (RESERVES, UNREADABLE, ALLOWS):
        if state in seen:
            return state
    return ABSENT


@lru_cache(maxsize=_CACHE)
def aipref_state(value: str) -> str:
    """The training state of a usage preference expression (a Content-Usage field or a robots rule's value)."""
    try:
        parsed: dict[str, Any] = cast(Any, http_sf.parse(value.encode("ascii"), tltype="dictionary"))
    except (UnicodeEncodeError, http_sf.StructuredFieldError, ValueError, TypeError):
        return UNREADABLE
    states = []
    for key in TRAINING_KEYS:
        if key not in parsed:
            continue
        item = parsed[key][0]
        if isinstance(item, http_sf.Token) and str(item) in ("y", "n"):
            states.append(ALLOWS if str(item) == "y" else RESERVES)
        else:
            states.append(UNREADABLE)
    return combine(states)


@lru_cache(maxsize=_CACHE)
def tdm_header_state(value: str) -> str:
    """The state of a `tdm-reservation` header: 1 reserved, 0 not, anything else unreadable."""
    return {"1": RESERVES, "0": ALLOWS}.get(value.strip(), UNREADABLE)


@lru_cache(maxsize=_CACHE)
def x_robots_state(value: str) -> str:
    """The state of an `X-Robots-Tag` value: `noai` or `noimageai` (for any crawler) reserve."""
    for directive in value.split(","):
        word = directive.rsplit(":", 1)[-1].strip().lower()  # "otherbot: noai" names a crawler first
        if word in X_ROBOTS_RESERVING:
            return RESERVES
    return ABSENT


@dataclass(frozen=True)
class PathRule:
    """A path pattern (robots.txt syntax: `*` any characters, a final `$` the end) and its state."""

    pattern: str
    state: str

    @property
    def length(self) -> int:
        """How specific the rule is: the bytes of its pattern (RFC 9309's longest match)."""
        return len(self.pattern.encode())

    def matches(self, path: str) -> bool:
        """The pattern matches the path (and query) of a URL."""
        return _compiled(self.pattern).match(path) is not None


@lru_cache(maxsize=_CACHE)
def _compiled(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = ".*".join(re.escape(part) for part in (pattern[:-1] if anchored else pattern).split("*"))
    return re.compile(body + ("$" if anchored else ""), re.DOTALL)


@lru_cache(maxsize=_CACHE)
def robots_rules(text: str) -> tuple[PathRule, ...] | None:
    """The Content-Usage rules of a robots.txt file, every group's; None when a rule cannot be read."""
    if len(text.encode("utf-8", "replace")) > MAX_ROBOTS_BYTES:
        return None
    rules: list[PathRule] = []
    for line in text.splitlines():
        label, sep, rest = line.partition(":")
        if not sep or label.strip().lower() != "content-usage":
            continue
        value = rest.split("#", 1)[0].strip()
        path, _, pref = value.partition(" ") if " " in value else value.partition("\t")
        if not path.startswith("/") or not pref.strip():
            return None
        rules.append(PathRule(path, aipref_state(pref.strip())))
    return tuple(rules)


@lru_cache(maxsize=_CACHE)
def tdmrep_rules(text: str) -> tuple[PathRule, ...] | None:
    """The rules of a TDMRep file (`/.well-known/tdmrep.json`), in order; None when it cannot be read."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return tdmrep_rules_of(data)


def tdmrep_rules_of(data: object) -> tuple[PathRule, ...] | None:
    """`tdmrep_rules` of a file already parsed as JSON."""
    if not isinstance(data, list):
        return None
    rules: list[PathRule] = []
    for rule in data:
        if not isinstance(rule, dict) or not isinstance(rule.get("location"), str):
            return None
        reservation = rule.get("tdm-reservation")
        if isinstance(reservation, bool) or reservation not in (0, 1):
            return None
        rules.append(PathRule(rule["location"], RESERVES if reservation == 1 else ALLOWS))
    return tuple(rules)


def path_state(rules: Sequence[PathRule], path: str, *, first: bool) -> str:
    """The state the rules give a path: the first matching rule (TDMRep), or the longest ones combined (robots)."""
    matching = [r for r in rules if r.matches(path)]
    if not matching:
        return ABSENT
    if first:
        return matching[0].state
    longest = max(r.length for r in matching)
    return combine(r.state for r in matching if r.length == longest)
