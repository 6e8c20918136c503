"""Scan expressions match wherever their patterns can keep a match (so skipping a pattern loses nothing)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engines import PIECES

from consentry.scrub.config import Engine
from consentry.scrub.detectors.loosen import ascii_classes, loosen, unbounded
from consentry.scrub.detectors.patterns import PATTERNS, SCAN_MIN_SCORE
from consentry.scrub.detectors.structured import PatternDetector, _forms, _scan_sources, hyperscan_available
from consentry.scrub.entities import EntityType

#: Every expression a pattern may be scanned for by, in each form (`_forms`), compiled with `re`.
SCANS = [
    (p, [re.compile(f, p.flags) for s in _scan_sources(p) for f in _forms(s, bool(p.flags & re.I))]) for p in PATTERNS
]
PYTHON = PatternDetector(frozenset(EntityType), Engine.PYTHON, min_score=SCAN_MIN_SCORE)


def test_assertions_are_made_consuming_at_the_ends_and_dropped_inside() -> None:
    assert loosen(r"(?<![\w.-])ab(?=c)d\be(?![0-9])") == r"(?:^|[^\w.-]|[^\x00-\x7F])abde(?:[^0-9]|[^\x00-\x7F]|$)"
    assert loosen(r"(?<!\w)(?i:x(?!y)z)(?P<v>[^)\]]{1,3})(?![a])(?![.-][0-9])") == (
        r"(?:^|\W|[^\x00-\x7F])(?i:xz)(?P<v>[^)\]]{1,3})(?:[^a]|[^\x00-\x7F]|$)"
    )
    assert unbounded(r"a{0,240}b{1,3}\{0,99}") == r"a{0,}b{1,3}\{0,99}"


def test_classes_become_their_ascii_members_or_any_non_ascii() -> None:
    assert ascii_classes(r"[0-9]{3}\.x") == r"[\x30-\x39]{3}\.x"
    assert ascii_classes(r"[A-ZÀ-Þ]") == "[\\x41-\\x5A\x80-\U0010ffff]"  # a thousand capitals: A-Z or non-ASCII
    assert ascii_classes(r"[À-Þ]ß") == r"[^\x00-\x7F]ß"
    assert ascii_classes(r"\s") == "[\\x09-\\x0D\\x1C-\\x20\x80-\U0010ffff]"  # re's \s holds \x1c-\x1f, \xa0, ...
    # caseless: a letter whose case-fold leaves ASCII (k: the Kelvin sign), any non-ASCII letter
    assert ascii_classes("(?i:ka)é", caseless=False) == r"(?i:(?:k|[^\x00-\x7F])a)é"
    assert ascii_classes("é", caseless=True) == r"[^\x00-\x7F]"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12))
def test_class_forms_are_exact_on_ascii_and_wider_elsewhere(text: str) -> None:
    for rx in (r"[A-ZÀ-Þ][^\W\d_]{0,3}\s\d", r"(?i:[a-zß]+k)\S", r"[^\w.,-]{2}"):
        for caseless in (False, True):
            flags = re.IGNORECASE if caseless else 0
            original, form = re.search(rx, text, flags), re.search(ascii_classes(rx, caseless), text, flags)
            if text.isascii():
                assert bool(original) == bool(form), (rx, text)
            elif original:
                assert form, (rx, text)


def _kept(p: object, text: str) -> bool:
    return bool(PYTHON._run(p, text))  # type: ignore[arg-type]


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")
def test_below_the_scan_minimum_a_pattern_is_scanned_for_by_its_regex() -> None:
    text = "order 643-21-6917, ref 643216917; my ssn: 643216917"
    entities = frozenset(EntityType)
    for min_score in (0.4, SCAN_MIN_SCORE):
        hs, py = (
            PatternDetector(entities, Engine.HYPERSCAN, min_score),
            PatternDetector(entities, Engine.PYTHON, min_score),
        )
        assert hs.detect(text) == py.detect(text)
        assert [f.end for f in hs.detect(text) if f.pattern == "ssn"] == (
            [17, 32, 51] if min_score < 0.45 else [17, 51]
        )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *PIECES,
                "é",
                "Straße 5",
                "Via Roma 1",
                "5f1c0a9e",
                "x",
                "-",
                "_",
                "K",
                "ssn",
                "Social",
                "643216917",
                "123 45 6789",
                "2125551234",
                "004930123456",
                "1234567",
                "tel:",
                "ph",
                "55 1234",
                "6759 6498 2643 8453",
                "5012345678901236",
                "paid by card:",
            ]
        ),
        max_size=8,
    )
)
def test_a_scan_expression_matches_wherever_its_pattern_keeps_a_match(pieces: list[str]) -> None:
    text = " ".join(pieces)
    for p, forms in SCANS:
        if p.compiled.search(text) if p.scan is None else _kept(p, text):
            assert all(f.search(text) for f in forms), (p.name, text)


@pytest.mark.parametrize("p", PATTERNS, ids=[p.name for p in PATTERNS])
def test_each_pattern_example_is_still_a_candidate(p: object) -> None:
    forms = next(f for q, f in SCANS if q is p)
    for piece in PIECES:
        for text in (piece, f"x {piece} y", f"é{piece}é", f"{piece}\u212a"):
            if p.compiled.search(text) if p.scan is None else _kept(p, text):  # type: ignore[attr-defined]
                assert all(f.search(text) for f in forms), text
