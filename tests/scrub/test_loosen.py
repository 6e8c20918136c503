"""Loosened scan expressions match wherever their patterns do (so skipping a pattern loses nothing)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engines import PIECES

from consentry.scrub.detectors.loosen import loosen, unbounded
from consentry.scrub.detectors.patterns import PATTERNS

LOOSE = [(p, re.compile(loosen(p.hint or p.regex), p.flags), re.compile(unbounded(loosen(p.hint or p.regex)), p.flags))
         for p in PATTERNS]  # fmt: skip


def test_assertions_are_made_consuming_at_the_ends_and_dropped_inside() -> None:
    assert loosen(r"(?<![\w.-])ab(?=c)d\be(?![0-9])") == r"(?:^|[^\w.-]|[^\x00-\x7F])abde(?:[^0-9]|[^\x00-\x7F]|$)"
    assert loosen(r"(?<!\w)(?i:x(?!y)z)(?P<v>[^)\]]{1,3})(?![a])(?![.-][0-9])") == (
        r"(?:^|\W|[^\x00-\x7F])(?i:xz)(?P<v>[^)\]]{1,3})(?:[^a]|[^\x00-\x7F]|$)"
    )
    assert unbounded(r"a{0,240}b{1,3}\{0,99}") == r"a{0,}b{1,3}\{0,99}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "é", "Straße 5", "Via Roma 1", "5f1c0a9e", "x", "-", "_"]), max_size=8))
def test_a_loosened_expression_matches_wherever_its_pattern_does(pieces: list[str]) -> None:
    text = " ".join(pieces)
    for p, loose, wider in LOOSE:
        if p.compiled.search(text):
            assert loose.search(text) and wider.search(text), (p.name, text)


@pytest.mark.parametrize("p", PATTERNS, ids=[p.name for p in PATTERNS])
def test_each_pattern_example_is_still_a_candidate(p: object) -> None:
    for piece in PIECES:
        for text in (piece, f"x {piece} y", f"é{piece}é"):
            if p.compiled.search(text):  # type: ignore[attr-defined]
                assert re.search(loosen(p.hint or p.regex), text, p.flags)  # type: ignore[attr-defined]
