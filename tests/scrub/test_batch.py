"""A batch finds and writes exactly what the same texts find and write one at a time."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.scrub import EntityType, Scrubber, ScrubConfig

PIECES = [
    "Thanks Priya Ramaswamy!",
    "Dr. Ada Lovelace",
    "Ada",
    "my name is john smith",
    "Møller, Price and Dixon",
    "the Smith Group",
    "New York",
    "Slides:",
    "ada.l@example.co.uk",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "https://example.org/a?b=1",
    "@ada_codes",
    "192.168.10.20",
    "4242 4242 4242 4242",
    "DE89 3704 0044 0532 0130 00",
    "643-21-6917",
    "221B Baker Street, London SW1A 1AA",
    "Hauptstraße 5",
    "born on 12/03/1985",
    "password: hunter22!",
    "AKIAIOSFODNN7EXAMPLE",
    "2024-11-20",
    "Ünïcödé Žluťoučký",
    "東京都",
    "\\n",
    "\n",
    "\ud800",
    "",
    " ",
    ",",
    ".",
    "and",
    "lives at",
    "call me",
]

texts_strategy = st.lists(
    st.one_of(
        st.lists(st.sampled_from(PIECES), max_size=8).map(" ".join),
        st.text(max_size=30),
        st.none(),
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def scrubbers() -> list[Scrubber]:
    return [
        Scrubber(ScrubConfig.default(), key=b"k", names=["Ada Lovelace", "Priya Ramaswamy"]),
        Scrubber(ScrubConfig(entities=frozenset({EntityType.PERSON, EntityType.PHONE})), key=b"k"),
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=texts_strategy)
def test_batch_equals_one_at_a_time(scrubbers: list[Scrubber], texts: list[str | None]) -> None:
    for scrubber in scrubbers:
        readable = [t for t in texts if t is not None and scrubber._readable(t) is not None]
        assert scrubber.detect_batch(readable) == [scrubber.detect(t) for t in readable]
        res = scrubber.scrub_batch(texts)  # a lone surrogate cannot go into Arrow: a plain list
        values, failed, counts = scrubber.scrub_values(texts)
        assert res.texts.to_pylist() == values and res.failed.to_pylist() == failed and res.counts == counts
        for t, out, bad in zip(texts, values, failed, strict=True):
            if t is None:
                assert out is None and not bad
            elif scrubber._readable(t) is None:
                assert out is None and bad
            else:
                assert out == scrubber.scrub_text(t) and not bad
