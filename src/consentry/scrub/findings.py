"""A finding: one span of personal data, with the explanation of why it was found."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from consentry.scrub.entities import EntityType

__all__ = ["Finding", "resolve_overlaps"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A span ``text[start:end]`` judged to be `entity`.

    `detector` and `pattern` name what found it, `validated` is the validator's
    verdict (None when the pattern has no validator) and `explanation` says, in
    words, how the score was reached. Never carries the matched text itself.
    """

    start: int
    end: int
    entity: EntityType
    score: float
    detector: str
    pattern: str
    validated: bool | None = None
    explanation: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON form used by ``consentry scrub --detect-only``."""
        return {
            "start": self.start,
            "end": self.end,
            "entity": self.entity.value,
            "score": round(self.score, 3),
            "detector": self.detector,
            "pattern": self.pattern,
            "validated": self.validated,
            "explanation": self.explanation,
        }


#: Entities made of parts (an address block): where a better finding overlaps one, the rest still counts.
_DIVISIBLE = frozenset({EntityType.STREET_ADDRESS})


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings (higher score, then longer), in text order.

    A divisible finding (an address block) that loses an overlap keeps the parts outside
    the winners, so a phone number inside an address block does not unmask the block.
    """
    if len(findings) < 2:
        return findings
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []  # non-overlapping, sorted by start
    starts: list[int] = []
    for f in ranked:
        clashes = _clashes(kept, starts, f)
        for piece in [f] if not clashes else _remainders(f, clashes) if f.entity in _DIVISIBLE else []:
            i = bisect.bisect_left(starts, piece.start)
            kept.insert(i, piece)
            starts.insert(i, piece.start)
    return kept


def _clashes(kept: list[Finding], starts: list[int], f: Finding) -> list[Finding]:
    """The kept findings overlapping `f` (kept ones never overlap, so they are contiguous)."""
    out: list[Finding] = []
    j = bisect.bisect_left(starts, f.end) - 1
    while j >= 0 and kept[j].end > f.start:
        out.append(kept[j])
        j -= 1
    return out


def _remainders(f: Finding, clashes: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    pos = f.start
    for k in sorted(clashes, key=lambda k: k.start):
        if k.start - pos >= 3:
            out.append(replace(f, start=pos, end=k.start))
        pos = max(pos, k.end)
    if f.end - pos >= 3:
        out.append(replace(f, start=pos, end=f.end))
    return out
