"""Over-redaction: ordinary words read as names must not be redacted, and the names beside them still are."""

from __future__ import annotations

import pytest

from consentry.scrub import Scrubber
from consentry.scrub.detectors.lexicon import load_lexicon

#: Texts with no personal data in the members' languages: any finding is a false positive.
NEGATIVES = [
    "Season two starts next week!",
    "Reason: the venue changed at the last minute.",
    "Lessons learned from shipping fast. Mistakes were made.",
    "Musicians, Bakers and Carpenters welcome at the open day.",
    "Designers, Developers and Testers all welcome at the meetup.",
    "Alles Gute zum neuen Job!",
    "Unser Büro ist umgezogen. Kommt vorbei!",
    "Danke für die Einladung, bis morgen.",
    "Bises à tous, à demain.",
    "Ciao a tutti, ci vediamo lunedì.",
    "Groeten uit Utrecht!",
    "Abraço a todos e boa semana.",
    # German capitalises every noun; nouns that are also surnames ("Koch", "Fischer", "Müller")
    "Der Koch hat heute frei, also bestellen wir Pizza.",
    "Fischer und Bauern protestieren in Brüssel.",
    "Schneider, Weber und Müller sind alte Handwerksberufe.",
    "Meine Steuer-ID steht auf dem Bescheid.",
    "Alles Gute zum Geburtstag!",
    "Gefeliciteerd met de nieuwe baan!",
]


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(key=b"test")


def test_ordinary_words_are_not_redacted(scrubber: Scrubber) -> None:
    found = {
        t: [t[f.start : f.end] for f in fs] for t, fs in zip(NEGATIVES, scrubber.detect_batch(NEGATIVES), strict=True)
    }
    assert {t: f for t, f in found.items() if f} == {}
    for slides in ("Slides: https://example.org/deck", "Folien: https://example.org/deck"):
        assert [(f.entity.value, slides[f.start : f.end]) for f in scrubber.detect(slides)] == [
            ("URL", "https://example.org/deck")
        ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kannst du die Rechnung schicken? Gruß, Kirstin Mende", "Kirstin Mende"),
        ("Kun je de factuur sturen? Groet, Jill Smit", "Jill Smit"),
        ("Puoi mandare la fattura? Ciao, Adriana Segni", "Adriana Segni"),
        ("Bedankt Jinthe van den Velden voor de presentatie!", "Jinthe van den Velden"),
        ("Thanks Anna Fernandez for the great panel!", "Anna Fernandez"),
        # a German noun is a surname after a given name, a title or a cue, and a noun before a particle
        # and a given name is not part of the name
        ("Treffen mit Gilbert Koch am Freitag.", "Gilbert Koch"),
        ("Bitte Herrn Fischer zurückrufen.", "Fischer"),
        ("Bewerbung von Wolfgang Hamann, eingegangen am Montag.", "Wolfgang Hamann"),
        ("Candidatura di Simone Scarpa, arrivata ieri.", "Simone Scarpa"),
        ("Sollicitatie van Zoey Moet, ontvangen gisteren.", "Zoey Moet"),
        ("Gefeliciteerd Yasmin! Geboren op 2 april 1990.", "Yasmin"),
    ],
)
def test_the_name_beside_a_greeting_is_still_found_and_the_greeting_is_not(
    scrubber: Scrubber, text: str, name: str
) -> None:
    persons = [text[f.start : f.end] for f in scrubber.detect(text) if f.entity.value == "PERSON"]
    assert persons == [name]


def test_name_particles_are_never_common_words() -> None:
    common = load_lexicon().common
    assert not {"van", "von", "der", "den", "de", "da", "di", "del", "dos", "du", "le", "la"} & common
    assert {"gruß", "groet", "bises", "ciao", "abraço", "unser", "alles"} <= common


#: Hexadecimal ids (commit hashes, md5 sums) whose digit runs pass a phone, card or Aadhaar check on their own.
HEX_WORDS = [
    "5737034557ef5b8c02c0e4",  # a NANP-shaped run, then letters
    "333222170ab9edca4785c",  # a French number's shape
    "2838023a778dfaecdc2",  # a German one
    "38840678620308eadd98d8632d",  # a Diners number, Luhn-valid
    "5e062929d32a333868084286bb68",  # a valid Aadhaar inside the word
]


@pytest.mark.parametrize("country", [None, "US", "FR", "DE", "IN"])
def test_digits_running_into_a_hexadecimal_word_are_not_numbers(scrubber: Scrubber, country: str | None) -> None:
    texts = [f"the build {w} passed" for w in HEX_WORDS]
    found = scrubber.detect_batch(texts, None if country is None else [country] * len(texts))
    assert found == [[] for _ in texts]
    # the same digits standing alone, or with an extension, are still numbers
    alone = scrubber.detect_batch(["call 573-703-4557 today", "call 573-703-4557x12 today"], ["US", "US"])
    assert [[f.entity.value for f in fs] for fs in alone] == [["PHONE"], ["PHONE"]]
