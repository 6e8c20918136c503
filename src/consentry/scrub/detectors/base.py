"""What every detector is: named, declares its entity types, explains each finding."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from consentry.scrub.detectors.validators import Verdict
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding

__all__ = ["ContextRule", "Detector", "Pattern"]

Validator = Callable[[str], Verdict]


@dataclass(frozen=True)
class ContextRule:
    """Words near a match that raise (positive delta) or lower (negative delta) its score."""

    words: tuple[str, ...]
    delta: float
    before: int = 40
    after: int = 0

    def __post_init__(self) -> None:
        alts = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
        object.__setattr__(self, "_regex", re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE))

    def anywhere(self, text: str) -> bool:
        """True when one of the words occurs anywhere in `text` (a cheap pre-check)."""
        rx: re.Pattern[str] = self._regex  # type: ignore[attr-defined]
        return rx.search(text) is not None

    def applies(self, text: str, start: int, end: int) -> bool:
        """True when one of the words occurs within the window around text[start:end]."""
        rx: re.Pattern[str] = self._regex  # type: ignore[attr-defined]
        if self.before and rx.search(text, max(0, start - self.before), start):
            return True
        return bool(self.after and rx.search(text, end, end + self.after))


@dataclass(frozen=True)
class Pattern:
    """A named regular expression for one entity: mostly data, as in Presidio's recognizers.

    `group` names the capture group holding the value (default: the whole match).
    `require_context` drops matches that no positive context rule supports.
    `hint` is a simpler expression every match contains, for Hyperscan's prefilter
    when the full pattern is too large for it (Unicode classes under long repeats).
    `scan` is a narrower one every match *that can be kept* contains (its validator's
    necessary condition: "at least 6 digits"): Hyperscan scans for it instead of the pattern.
    `extend(text, end)` returns a later end when the match continues past the pattern
    (an address block over several lines).
    Every pattern must be linear-time: bounded repeats and a left boundary lookbehind.
    """

    name: str
    entity: EntityType
    regex: str
    score: float
    validator: Validator | None = None
    context: Sequence[ContextRule] = ()
    group: str | None = None
    require_context: bool = False
    flags: int = 0
    strip_trailing: str = ""
    hint: str | None = None
    extend: Callable[[str, int], int] | None = None
    scan: str | None = None
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.regex, self.flags))


class Detector(ABC):
    """Finds spans of personal data of the entity types it declares."""

    name: str = "detector"
    entities: frozenset[EntityType] = frozenset()

    @abstractmethod
    def detect(self, text: str) -> list[Finding]:
        """All findings in one text (overlaps allowed; the scrubber resolves them)."""

    def detect_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings for each text of a batch; override when a batch can be scanned at once."""
        return [self.detect(t) for t in texts]
