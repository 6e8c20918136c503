"""Phone numbers in their local, national format, read with `phonenumbers` in a region.

The region is the member's country when the build knows it (the region hint),
else the region of each of the record's language profiles. A candidate that
`phonenumbers` finds valid in that region's numbering plan is a phone number
without any supporting word ("030 12345678" in DE, "06 12 34 56 78" in FR);
dates and candidates valid nowhere are dropped; an extension written after a
valid number ("(283) 423-7523x4931", "ext. 12") is part of it. Without a region (English or an
undecided language with no hint) only numbers written with a +country code
are read here; the catalogue's phone pattern covers the rest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import phonenumbers

from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LanguageProfile

__all__ = ["LocalPhoneDetector", "valid_in_region"]

_CANDIDATE = re.compile(
    r"(?<![\w+/.:,-])(?P<number>(?:(?:\+|00)[1-9][0-9]{0,2}[ .-]?)?(?:\(0?[0-9]{1,5}\)[ .-]?)?[0-9]{1,14}"
    r"(?:(?:[ .-]|/|[ ]/[ ])[0-9]{1,8}){0,6}(?![0-9])(?![-.:/,][0-9]))"
    r"(?:[ ]?(?:x|ext\.?|extension|poste)[ ]?[0-9]{1,6}(?!\w))?"  # an extension, kept with the number: "…7523x49"
    r"(?![A-Za-z])"  # digits run into a word ("2838023a778…", a hexadecimal id) are not a number
)
#: What every candidate with 6 digits holds: its first six digits, gaps of at most three of " ./()-" between.
_SIX_DIGITS = r"(?<![\w+/.:,-])[+(]?[0-9](?:[ ./()-]{0,3}[0-9]){5}"
_DATE_LIKE = re.compile(r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}")
_SCORE = 0.88
#: A bare run of digits (no separator, no + code) valid as a number: kept, with less confidence.
_BARE_SCORE = 0.6
#: A valid number and its extension ("x4931", "ext. 12"): the catalogue's pattern stops before the extension.
_EXTENSION_SCORE = 1.0


@functools.lru_cache(maxsize=65536)
def valid_in_region(candidate: str, region: str | None) -> bool:
    """True when `candidate` is a valid number in `region`'s numbering plan (+CC numbers in their own)."""
    digits = sum(c.isdigit() for c in candidate)
    if not 6 <= digits <= 15 or _DATE_LIKE.fullmatch(candidate):
        return False
    international = candidate.startswith(("+", "00"))
    if region is None and not international:
        return False
    text = "+" + candidate[2:] if candidate.startswith("00") else candidate
    try:
        number = phonenumbers.parse(text, None if international else region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


class LocalPhoneDetector(LocalizedDetector):
    """Phone numbers valid in the record's region (hint or language)."""

    name = "local_phone"
    entities = frozenset({EntityType.PHONE})

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalPhoneDetector, (self.min_score,))

    def scan_expressions(self) -> Sequence[tuple[str, int]]:
        """A candidate's first six digits."""
        return ((_SIX_DIGITS, 0),)

    def detect_local(self, text: str, profiles: Sequence[LanguageProfile], region: str | None) -> list[Finding]:
        """Numbers valid in `region`, else in one of the profiles' regions."""
        regions: list[str | None] = [region] if region else list(dict.fromkeys(p.region for p in profiles))
        regions = regions or [None]
        out: list[Finding] = []
        for m in _CANDIDATE.finditer(text):
            value = m.group("number")
            if sum(c.isdigit() for c in value) < 6:
                continue
            where = next((r for r in regions if valid_in_region(value, r)), "")
            if where == "":
                continue
            note = f"valid number in {where or 'its country code'} (phonenumbers)"
            score = _BARE_SCORE if value.isdigit() else _SCORE
            if m.end() > m.end("number"):  # with its extension: outranks the catalogue's number without it
                score, note = _EXTENSION_SCORE, note + " with its extension"
            if score >= self.min_score:
                out.append(Finding(m.start(), m.end(), EntityType.PHONE, score, self.name, "local_phone", True, note))
        return out
