"""The hot-path shortcuts find exactly what the plain forms they replace find."""

from __future__ import annotations

import hashlib
import hmac
import re
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.scrub.config import Engine
from consentry.scrub.detectors import person_cues
from consentry.scrub.detectors.person_cues import _CUE_BEFORE, _CUE_MAX, _WEAK_CUE_BEFORE, _WEAK_CUE_MAX
from consentry.scrub.detectors.structured import PatternDetector, hyperscan_available
from consentry.scrub.detectors.validators import _digits, validate_card
from consentry.scrub.entities import EntityType
from consentry.scrub.operators import HashOperator


def _word_width(rx: re.Pattern[str]) -> int:
    words = rx.pattern.split(r"\b(?:", 1)[1].rsplit(r")[\s,:]*", 1)[0]
    return int(sre_parse.parse(words, re.IGNORECASE).getwidth()[1])


def test_cue_widths_match_the_patterns() -> None:
    assert _word_width(_CUE_BEFORE) == _CUE_MAX
    assert _word_width(_WEAK_CUE_BEFORE) == _WEAK_CUE_MAX


_PIECES = [
    "Dr.",
    "dr",
    "thanks",
    "hi",
    "@",
    "\n",
    " ",
    ",",
    ":",
    "\t",
    "\u00a0",
    "with",
    "x",
    "Ann",
    "congratulations",
    "colleague",
    "my name is",
    "é",
    "'",
    ".",
    "K",
    "\u212a",
    "ſ",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14))
def test_narrowed_cue_search_equals_the_full_window(pieces: list[str]) -> None:
    text = "".join(pieces) + "Name"
    for start in range(len(text) + 1):
        lo = max(0, start - 24)
        j = person_cues._cue_end(text, lo, start)
        for rx, width in ((_CUE_BEFORE, _CUE_MAX), (_WEAK_CUE_BEFORE, _WEAK_CUE_MAX)):
            assert bool(rx.search(text, max(lo, j - width), start)) == bool(rx.search(text, lo, start))


@given(st.text(max_size=40))
def test_digit_helpers_equal_their_plain_forms(value: str) -> None:
    assert _digits(value) == "".join(c for c in value if c.isdigit())
    if sum(c.isdigit() for c in value) < 12:
        assert not validate_card(value).ok


def test_hash_token_is_the_hmac_sha256_of_entity_and_value() -> None:
    key = b"k" * 32
    digest = hmac.new(key, b"PERSON\x00ada lovelace", hashlib.sha256).hexdigest()[:12]
    assert HashOperator(key).apply("Ada  Lovelace", EntityType.PERSON) == f"<PERSON:{digest}>"


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")
def test_cue_word_prefilter_keeps_every_supported_match() -> None:
    """Patterns that need a cue word are skipped on ASCII text without one (Hyperscan) — and
    find the same as the pure-`re` path whatever the cue word's case or surroundings."""
    entities = frozenset(EntityType)
    hs, py = PatternDetector(entities, Engine.HYPERSCAN), PatternDetector(entities, Engine.PYTHON)
    checked = [p for p in hs.patterns if p.require_context]
    assert checked and hs._prefilter is not None and hs._prefilter.word_checked
    values = ["Elm Grove 12", "D1234567", "12/03/1985", "643216917", "1234 5678 9012"]
    texts = []
    for p in checked:
        for w in (w for r in p.context if r.delta > 0 for w in r.words):
            for shape in (w, w.upper(), w.title(), f"x{w}x"):
                texts += [f"{shape} {v}" for v in values] + [f"{v} ({shape})" for v in values]
    texts += [f"lives at {v}" for v in values] + [f"Lives At Straße {v}" for v in values]
    assert any(hs.detect(t) for t in texts)
    assert [hs.detect(t) for t in texts] == [py.detect(t) for t in texts]
