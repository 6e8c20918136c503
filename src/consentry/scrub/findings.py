"""A finding: one span of personal data, with the explanation of why it was found."""

from __future__ import annotations

from dataclasses import dataclass

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


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings (higher score, then longer), in text order."""
    if len(findings) < 2:
        return findings
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    kept.sort(key=lambda f: f.start)
    return kept
