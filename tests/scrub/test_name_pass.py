"""The name pass's and language identification's shortcuts find exactly what their plain forms find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.scrub.detectors import local_names, names, person_cues
from consentry.scrub.languages import load_profiles

_PIECES = ["Ann", "ann", "É", "é", "K", "\u212a", " ", "  ", "\t", "\n", ".", "-", "'", "’", "@", "#", "/", "&", "_"]
_PIECES += ["9", "de", "van", "Dr.", "Mr", "J.", "hi", "dear", "thanks", "my name is", "ſ", "x", "ǅ", "İ"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=16) | st.lists(st.text(max_size=3), max_size=8))
def test_capitalised_tokens_equal_the_lookbehind_first_form(pieces: list[str]) -> None:
    text = "".join(pieces)
    plain = re.compile(r"(?<![\w@#/&.'’-])" + names._TOKEN.pattern.replace(r"(?<![\w@#/&.'’-].)", "", 1))
    assert [m.span() for m in names._TOKEN.finditer(text)] == [m.span() for m in plain.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*_PIECES, "mr. ", "cheers, ", "i'm ", "call me ", "john"]), max_size=16))
def test_lowercase_cue_hint_never_hides_a_match(pieces: list[str]) -> None:
    text = "".join(pieces)
    if person_cues._LOWER_CUE.search(text):
        assert person_cues._LOWER_CUE_HINT.search(text)


def _plain_runs(text: str) -> list[list[tuple[int, int]]]:
    """The run builder as first written: token by token, the gap read each time."""
    runs: list[list[tuple[int, int]]] = []
    cur: list[tuple[int, int]] = []
    prev, end = "", 0
    for m in names._TOKEN.finditer(text):
        s, e = m.span()
        if cur and not (prev[-1] == "." and len(prev) > 2 and prev[:-1] not in names.TITLES):
            gap = text[end:s]
            if (s == end + 1 and text[end] == " ") or (
                gap.strip() and gap[0] == " " and all(w in names._PARTICLES for w in gap.split())
            ):
                cur.append((s, e))
                prev, end = m.group(), e
                continue
        if cur:
            runs.append(cur)
        cur = [(s, e)]
        prev, end = m.group(), e
    if cur:
        runs.append(cur)
    return runs


_RUN_PIECES = [*_PIECES, "Mrs.", "Smith.", " de la ", " von\n", "Anne-Marie", " ", ", "]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_RUN_PIECES), max_size=16))
def test_runs_equal_the_token_by_token_builder(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert names.LexiconPersonDetector()._runs(text) == _plain_runs(text)


_CUE_PIECES = [*_PIECES, "@", ", ", ": ", "Mr. ", "FT.", "thank you ", "I'm", "with ", "\u212a", "ſ", "tell", "O'"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_CUE_PIECES), max_size=12))
def test_cue_spellings_never_hide_a_cue(pieces: list[str]) -> None:
    text = "".join(pieces) + "Ann Lee"
    start = len(text) - 7
    lo = max(0, start - 24)
    j = person_cues._cue_end(text, lo, start)
    strong = person_cues._CUE_BEFORE.search(text, max(lo, j - person_cues._CUE_MAX), start)
    weak = person_cues._WEAK_CUE_BEFORE.search(text, max(lo, j - person_cues._WEAK_CUE_MAX), start)
    notes = person_cues.context_score(text, start, len(text), 1)[1]
    assert ("cue before" in notes) == bool(strong)
    assert ("weak cue before" in notes) == (not strong and bool(weak))


_NAMING_PIECES = ["Mein Name ist ", "ICH HEIßE ", "ich heisse ", "Je m'appelle ", "ME LLAMO ", "me chamo "]
_NAMING_PIECES += ["mi chiamo "]
_NAMING_PIECES += ["Ik heet ", "mijn naam is ", "Mera Naam ", "naam: ", "priya", " sharma", "x", ", ", "Anna"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_NAMING_PIECES), max_size=8))
def test_naming_spellings_never_hide_a_naming_phrase_in_ascii_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    if not text.isascii():
        return
    for p in load_profiles().values():
        spellings = local_names._naming_spellings(p.cues_before)
        if spellings is not None and local_names._naming_regex(p.cues_before).search(text):
            assert any(w in text.lower() for w in spellings)
