"""A finding: one span of personal data, with the explanation of why it was found."""

from __future__ import annotations

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
    kept: list[Finding] = []
    for f in ranked:
        clashes = [k for k in kept if f.start < k.end and k.start < f.end]
        if not clashes:
            kept.append(f)
        elif f.entity in _DIVISIBLE:
            kept.extend(_remainders(f, clashes))
    kept.sort(key=lambda f: f.start)
    return kept


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
