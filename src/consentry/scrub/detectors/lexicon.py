"""Name lexicons shipped as package data (derived from Faker's MIT-licensed person providers).

Provenance: bench/corpora/make_name_lexicon.py unions the given and family names
of every Faker locale (Faker is MIT-licensed) and Faker's English word list
plus spaCy's English stop words (MIT) as `common_words`. `surname_lookalikes` (English words
that end like family names: "Slides", "Lesson", "Musician") comes from SCOWL and WordNet via
`data/make_surname_lookalikes.py`; licences in `data/NOTICE.surname_lookalikes.txt`. `nouns`
(ordinary German nouns: "Koch", "Bewerbung", "Folien") comes from the German Wiktionary via
`data/make_german_nouns.py`; licences in `data/NOTICE.german_nouns.txt`. No download at run time.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass, replace
from importlib import resources

__all__ = ["ORG_WORDS", "TITLES", "Lexicon", "load_lexicon", "name_bucket"]

#: Honorifics that announce a name; not part of the name span.
TITLES = frozenset(
    [
        "Mr",
        "Mrs",
        "Ms",
        "Miss",
        "Mx",
        "Dr",
        "Prof",
        "Sir",
        "Dame",
        "Lord",
        "Lady",
        "Herr",
        "Frau",
        "Mme",
        "Mlle",
        "Madame",
        "Monsieur",
        "Sr",
        "Sra",
        "Srta",
        "Dra",
        "Dott",
        "Sig",
        "Signora",
        "Rev",
        "Fr",
        "Capt",
        "Col",
        "Gen",
        "Sgt",
        "Lt",
        "Officer",
        "Judge",
        "Justice",
        "Senator",
        "Sen",
        "Rep",
        "President",
        "Rabbi",
        "Imam",
        "Pastor",
    ]
)

#: Words that start many capitalised runs but are not names even when a lexicon lists them.
_EXTRA_COMMON = [
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "cheers",
    "regards",
    "best",
    "love",
    "yours",
    "sincerely",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "today",
    "tomorrow",
    "yesterday",
    "god",
    "lol",
    "omg",
    "ok",
    "okay",
    "yes",
    "no",
    "please",
    "sorry",
    "congrats",
    "happy",
    "new",
    "year",
    "christmas",
    "easter",
    "team",
    "company",
    "group",
    "street",
    "road",
    "avenue",
    "city",
    "university",
    "school",
    "bank",
    "hospital",
    "church",
    "river",
    "lake",
    "mount",
    "park",
    "north",
    "south",
    "east",
    "west",
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "american",
    "british",
    "european",
    "african",
    "asian",
    "chinese",
    "japanese",
    "indian",
    "russian",
    "internet",
    "email",
    "phone",
    "app",
    "ai",
    "ceo",
    "cto",
    "vp",
    "hr",
    "it",
    "pm",
    "am",
    "via",
    "rue",
    "rua",
    "calle",
    "apt",
    "suite",
    "unit",
    # labels of forms and signatures, which start lines as names do
    "date",
    "name",
    "address",
    "website",
    "mobile",
    "desk",
    "fax",
    "when",
    "where",
    "subject",
    "note",
    "title",
    "office",
    "personal",
    "info",
    "user",
    "bot",
    "billing",
    "shipping",
]

#: Words that make a capitalised run an organisation, whatever names it holds.
ORG_WORDS = frozenset(
    [
        "inc",
        "ltd",
        "llc",
        "llp",
        "corp",
        "corporation",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "spa",
        "nv",
        "bv",
        "oy",
        "ab",
        "asa",
        "kk",
        "co",
        "company",
        "holdings",
        "group",
        "trust",
        "fund",
        "bancorp",
        "bancorporation",
        "limited",
        "incorporated",
        "partners",
        "capital",
        "industries",
        "systems",
        "technologies",
        "acquisition",
        "etf",
        "etfs",
        "reit",
        "st",
        # business words that end organisation names in posts ("Stark Logistics", "Hooli Labs")
        "logistics",
        "robotics",
        "health",
        "healthcare",
        "solutions",
        "labs",
        "consulting",
        "analytics",
        "ventures",
        "motors",
        "pharma",
        "software",
        "studios",
        "networks",
        "airlines",
        "associates",
        "enterprises",
        "insurance",
    ]
)


@dataclass(frozen=True)
class Lexicon:
    """Given names, family names and common words (lower-cased)."""

    given: frozenset[str]
    family: frozenset[str]
    common: frozenset[str]
    places: frozenset[str]
    countries: frozenset[str]
    #: Ordinary English words (lower case) that `SURNAME_SHAPE` would read as family names.
    surname_lookalikes: frozenset[str] = frozenset()
    #: Ordinary German nouns as written, capitalised ("Koch", "Bewerbung"): surnames only when supported.
    nouns: frozenset[str] = frozenset()

    def without_buckets(self, held_out: range) -> Lexicon:
        """This lexicon minus the names whose `name_bucket` falls in `held_out` (for honest evaluation)."""
        return replace(
            self,
            given=frozenset(n for n in self.given if name_bucket(n) not in held_out),
            family=frozenset(n for n in self.family if name_bucket(n) not in held_out),
        )


def name_bucket(token: str) -> int:
    """A stable bucket 0-99 of a name token, to hold a share of names out of the lexicon."""
    return int.from_bytes(hashlib.blake2s(token.encode("utf-8"), digest_size=4).digest(), "big") % 100


def _read(name: str) -> list[str]:
    data = resources.files("consentry.scrub").joinpath("data").joinpath(name).read_bytes()
    return gzip.decompress(data).decode("utf-8").split()


@functools.cache
def load_lexicon() -> Lexicon:
    """The shipped lexicons, loaded once per process."""
    common = {w.lower() for w in _read("common_words.txt.gz")} | set(_EXTRA_COMMON)
    return Lexicon(
        given=frozenset(_read("given_names.txt.gz")),
        family=frozenset(_read("family_names.txt.gz")),
        common=frozenset(common),
        places=_places(),
        countries=_countries(),
        surname_lookalikes=frozenset(_read("surname_lookalikes.txt.gz")),
        nouns=frozenset(_read("german_nouns.txt.gz")),
    )


def _places() -> frozenset[str]:
    """Country and subdivision names (pycountry), so "New York" or "Georgia" alone is not a person."""
    import pycountry

    names: set[str] = set()
    for c in pycountry.countries:
        names.update({c.name, getattr(c, "common_name", c.name)})
    names.update(s.name for s in pycountry.subdivisions)
    return frozenset(n for n in names if " " in n or n not in {"Jordan", "Chad"})


def _countries() -> frozenset[str]:
    """Country names (pycountry): a capitalised run ending in one is a place ("Grand-Leez Belgium")."""
    import pycountry

    names: set[str] = set()
    for c in pycountry.countries:
        names.update({c.name, getattr(c, "common_name", c.name)})
    return frozenset(n for n in names if " " not in n and n not in {"Jordan", "Chad", "Georgia"})
