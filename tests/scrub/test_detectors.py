"""Every entity is found in its usual shapes, and look-alikes that fail validation are not."""

from __future__ import annotations

import itertools

import pytest

from consentry.scrub import EntityType, Scrubber, ScrubConfig

E = EntityType


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(ScrubConfig.default(), key=b"test-key", names=["Ada Lovelace"])


POSITIVE = [
    ("Write to ada.l@example.co.uk today", "ada.l@example.co.uk", E.EMAIL),
    ("mail: Łukasz.Nowak@poczta.pl", "Łukasz.Nowak@poczta.pl", E.EMAIL),
    ("call +44 20 7946 0958 now", "+44 20 7946 0958", E.PHONE),
    ("my cell is (415) 555-2671", "(415) 555-2671", E.PHONE),
    ("Tel. 06-82237745 please", "06-82237745", E.PHONE),
    ("WhatsApp 0049 30 901820", "0049 30 901820", E.PHONE),
    ("see https://example.org/a?b=1.", "https://example.org/a?b=1", E.URL),
    ("follow linkedin.com/in/ada-l for more", "linkedin.com/in/ada-l", E.USERNAME),
    ("ping @ada_codes about it", "@ada_codes", E.USERNAME),
    ("server at 192.168.10.20 is down", "192.168.10.20", E.IP_ADDRESS),
    ("v6 fe80::1ff:fe23:4567:890a here", "fe80::1ff:fe23:4567:890a", E.IP_ADDRESS),
    ("card 4242 4242 4242 4242 lost", "4242 4242 4242 4242", E.CREDIT_CARD),
    ("cc 4218196001337 on file", "4218196001337", E.CREDIT_CARD),
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", "DE89 3704 0044 0532 0130 00", E.IBAN),
    ("pay GB82WEST12345698765432", "GB82WEST12345698765432", E.IBAN),
    ("His social security number is 643-21-6917", "643-21-6917", E.US_SSN),
    ("CPF 111.444.777-35 do titular", "111.444.777-35", E.BR_CPF),
    ("codice fiscale RSSMRA85T10A562S", "RSSMRA85T10A562S", E.IT_FISCAL_CODE),
    ("DNI 12345678Z", "12345678Z", E.ES_DNI),
    ("driver's license D1234567 expired", "D1234567", E.DRIVER_LICENSE),
    ("I live at 221B Baker Street, London", "221B Baker Street", E.STREET_ADDRESS),
    ("The bus station is on Via Pasquale Scura 127", "Via Pasquale Scura 127", E.STREET_ADDRESS),
    ("Wir wohnen in der Hauptstraße 5 in Berlin", "Hauptstraße 5", E.STREET_ADDRESS),
    ("send it to P.O. Box 255", "P.O. Box 255", E.STREET_ADDRESS),
    ("I was born on 12/03/1985 in Leeds", "12/03/1985", E.DATE_OF_BIRTH),
    ("DOB: March 4, 1990", "March 4, 1990", E.DATE_OF_BIRTH),
    ("key AKIAIOSFODNN7EXAMPLE in the repo", "AKIAIOSFODNN7EXAMPLE", E.SECRET),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", E.SECRET),
    ("my password is hunter22!", "hunter22", E.SECRET),
    ("Thanks Priya Ramaswamy for the talk", "Priya Ramaswamy", E.PERSON),
    ("Hi Jean-Luc, see you", "Jean-Luc", E.PERSON),
    ("Great post by María José García-López!", "María José García-López", E.PERSON),
    ("Thanks Dr. Okonkwo", "Okonkwo", E.PERSON),
    ("met ada lovelace yesterday", "ada lovelace", E.PERSON),  # member directory, any case
]


@pytest.mark.parametrize(("text", "value", "entity"), POSITIVE, ids=[p[1] for p in POSITIVE])
def test_entity_found_with_explanation(scrubber: Scrubber, text: str, value: str, entity: EntityType) -> None:
    found = {(text[f.start : f.end], f.entity): f for f in scrubber.detect(text)}
    assert (value, entity) in found, [(text[f.start : f.end], f.entity) for f in found.values()]
    f = found[(value, entity)]
    assert f.detector and f.pattern and f.explanation
    assert 0.0 < f.score <= 1.0


NEGATIVE = [
    "card 4242 4242 4242 4241 lost",  # Luhn fails
    "IBAN DE88 3704 0044 0532 0130 00",  # check digits fail
    "number 000-12-3456 is not an ssn",  # area 000
    "my password is strong",  # an ordinary word
    "version 1.2.3.4 shipped",  # not an ip after 'version'
    "the meeting is on 2024-11-20 at 10:30",  # a date is not a phone
    "we met in 1990-2000",  # a year range
    "Dates like 12/03/1985 without birth context stay",
    "The Smith Building is near New York",
    "Welcome to Monday. Great Team Meeting",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_lookalikes_not_found(scrubber: Scrubber, text: str) -> None:
    assert [(text[f.start : f.end], f.entity) for f in scrubber.detect(text)] == []


def test_findings_do_not_overlap_and_keep_the_best(scrubber: Scrubber) -> None:
    text = "SSN 643-21-6917, email bob.smith@example.com"
    found = scrubber.detect(text)
    assert [f.entity for f in found] == [E.US_SSN, E.EMAIL]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_context_raises_score(scrubber: Scrubber) -> None:
    bare = "ref 643216917 ok"
    with_ctx = "my ssn is 643216917 ok"
    assert not [f for f in scrubber.detect(bare) if f.entity is E.US_SSN]
    assert [f for f in scrubber.detect(with_ctx) if f.entity is E.US_SSN]


def test_entity_selection_limits_findings() -> None:
    only_email = Scrubber(ScrubConfig(entities=frozenset({E.EMAIL})), key=b"k")
    text = "Thanks Priya Ramaswamy, mail priya@example.org, call +44 20 7946 0958"
    assert {f.entity for f in only_email.detect(text)} == {E.EMAIL}
