"""Ordinary English words that end like family names ("Slides", "Lesson") are not people;
surnames that only the ending rule (`SURNAME_SHAPE`) recognises still are."""

from __future__ import annotations

import pytest

from consentry.scrub import EntityType, Scrubber, ScrubConfig
from consentry.scrub.detectors.lexicon import load_lexicon
from consentry.scrub.detectors.person_cues import SURNAME_SHAPE


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(ScrubConfig.default(), key=b"lookalikes")


ORDINARY = [
    ("Slides: https://example.com/deck", "Slides"),
    ("Season 2 recap: the finale was great", "Season"),
    ("Season 2 recap by the whole team", "Season"),
    ("Reason: the build was too slow", "Reason"),
    ("Guides for new members", "Guides"),
    ("Sides of the story", "Sides"),
    ("Slides\nare in the shared folder", "Slides"),
    ("Thanks for the Slides: they helped", "Slides"),
    ("Lesson: always keep a backup", "Lesson"),
    ("Musician: wanted for Friday", "Musician"),
    ("Overrides: none", "Overrides"),
    ("Landslides: three roads closed", "Landslides"),
]


@pytest.mark.parametrize(("text", "word"), ORDINARY, ids=[o[0][:30] for o in ORDINARY])
def test_ordinary_words_with_a_surname_ending_are_not_redacted(scrubber: Scrubber, text: str, word: str) -> None:
    assert not [f for f in scrubber.detect(text) if f.entity is EntityType.PERSON]
    assert word in scrubber.scrub_batch([text]).texts[0].as_py()


SHAPE_ONLY = [
    ('"Glad to hear it," says Hrafnsdóttir.', "Hrafnsdóttir"),
    ("She works with Jabłońska on the report", "Jabłońska"),
    ("Mikulić began writing as a teenager", "Mikulić"),
    ("Virrankoski began writing as a teenager", "Virrankoski"),
    ("thanks to Kovalenko for the review", "Kovalenko"),
]


@pytest.mark.parametrize(("text", "name"), SHAPE_ONLY, ids=[s[1] for s in SHAPE_ONLY])
def test_surnames_known_only_by_their_ending_are_still_found(scrubber: Scrubber, text: str, name: str) -> None:
    lex = load_lexicon()
    assert name not in lex.family and name not in lex.given, "must be a case for the ending rule alone"
    assert SURNAME_SHAPE.match(name)
    found = {(text[f.start : f.end], f.entity) for f in scrubber.detect(text)}
    assert (name, EntityType.PERSON) in found, sorted(found)
    assert name not in scrubber.scrub_batch([text]).texts[0].as_py()


def test_lookalike_list_is_lower_case_words_the_ending_rule_matches() -> None:
    """The shipped list stays in step with `SURNAME_SHAPE`, and keeps proper nouns out."""
    words = load_lexicon().surname_lookalikes
    assert {"slides", "guides", "lesson", "person", "musician"} <= words
    assert all(w.islower() and w.isalpha() and SURNAME_SHAPE.match(w.title()) for w in words)
    # word lists that write proper nouns capitalised keep famous surnames out of it
    assert not {"tchaikovsky", "einstein", "gorbachev", "goldberg", "chomsky", "euripides"} & words


def test_held_out_lexicon_keeps_the_lookalikes() -> None:
    lex = load_lexicon()
    assert lex.without_buckets(range(20)).surname_lookalikes == lex.surname_lookalikes
