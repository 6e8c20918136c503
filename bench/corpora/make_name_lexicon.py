"""Derive the scrubber's name lexicons from Faker's person providers (MIT licence).

Run at development time only; the output is committed as package data:

    .venv/bin/python bench/corpora/make_name_lexicon.py

    .venv/bin/python bench/corpora/make_name_lexicon.py --common-only   # common_words alone

Writes src/consentry/scrub/data/{given_names,family_names,common_words}.txt.gz:
one token per line, the union over every Faker locale, so names from many
cultures are covered. `common_words` is Faker's English lorem word list plus
spaCy's English stop words; a name token that is also a common word needs
stronger evidence before it counts as a person. To these come the stop words
of the members' other languages (spaCy's de, fr, es, pt, it, nl lists) and their
greetings and sign-offs ("Gruß", "Groet", "Bises", "Abraço", "Ciao", "Namaste"),
so "Alles Gute", "Unser Büro" or "…, Gruß" are not read as names — less the
words the name lists hold and the particles of names ("de", "van", "der"), so
no name is weakened by them.
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path

import faker.providers.person as person_pkg
from faker.providers.lorem.en_US import Provider as LoremProvider

OUT = Path(__file__).resolve().parents[2] / "src" / "consentry" / "scrub" / "data"
GIVEN_ATTRS = (
    "first_names",
    "first_names_male",
    "first_names_female",
    "first_names_nonbinary",
    "first_romanized_names",
)
FAMILY_ATTRS = ("last_names", "last_names_male", "last_names_female", "last_romanized_names")
#: The members' other languages whose spaCy stop words are common words too.
OTHER_LANGUAGES = ("de", "fr", "es", "pt", "it", "nl")
#: Greetings, thanks, congratulations and sign-offs in those languages and in Hinglish (lower case).
GREETINGS = [
    "gruß",
    "grüße",
    "grüßen",
    "gruss",
    "liebe",
    "lieben",
    "herzliche",
    "herzlichen",
    "danke",
    "dankeschön",
    "hallo",
    "servus",
    "tschüss",
    "moin",
    "groet",
    "groeten",
    "hartelijke",
    "bedankt",
    "hoi",
    "doei",
    "bises",
    "bisous",
    "bisou",
    "cordialement",
    "amitiés",
    "merci",
    "bonjour",
    "salut",
    "coucou",
    "saludos",
    "abrazo",
    "abrazos",
    "besos",
    "gracias",
    "hola",
    "abraço",
    "abraços",
    "beijos",
    "beijo",
    "obrigado",
    "obrigada",
    "olá",
    "oi",
    "ciao",
    "saluti",
    "grazie",
    "buongiorno",
    "baci",
    "namaste",
    "namaskar",
    "shukriya",
    "dhanyavaad",
    "dhanyawad",
    "bhai",
    "bhaiya",
    "didi",
    "ji",
    # congratulations, which start a line before a name as greetings do ("Gefeliciteerd Yasmin!")
    "gefeliciteerd",
    "proficiat",
    "glückwunsch",
    "glückwünsche",
    "félicitations",
    "felicidades",
    "felicitaciones",
    "enhorabuena",
    "parabéns",
    "auguri",
    "complimenti",
    "congratulazioni",
    "badhai",
    # Hinglish function words, which follow "mera naam" as a name would ("mera naam kya hai?")
    "kya",
    "hai",
    "hain",
    "nahi",
    "mera",
    "meri",
    "naam",
    "aap",
    "aapka",
    "kaun",
    "kaise",
    "accha",
    "theek",
]
#: Stop words that are given names in cultures Faker's lists miss ("Saber" is an Arabic given name;
#: presidio-evaluator's corpus has two), kept out of the common words.
NAMES_TOO = frozenset({"saber"})
#: Particles of names, never common words (they join "Jinthe van den Velden", "Ana de la Cruz").
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "da",
        "das",
        "do",
        "dos",
        "di",
        "del",
        "della",
        "dei",
        "degli",
        "la",
        "le",
        "les",
        "du",
        "des",
        "ten",
        "ter",
        "y",
        "e",
        "bin",
        "al",
        "el",
        "zu",
        "lo",
    ]
)


def _tokens(values: Iterable[str] | object) -> set[str]:
    out: set[str] = set()
    if not isinstance(values, (list, tuple, dict, set, frozenset)):
        return out
    for value in values:
        for tok in str(value).replace("-", " ").split():
            tok = tok.strip(".,'’")
            if len(tok) >= 2 and tok[0].isupper() and not any(c.isdigit() for c in tok):
                out.add(tok)
    return out


def _collect() -> tuple[set[str], set[str]]:
    given: set[str] = set()
    family: set[str] = set()
    for mod in pkgutil.iter_modules(person_pkg.__path__):
        provider = importlib.import_module(f"faker.providers.person.{mod.name}").Provider
        for attr in GIVEN_ATTRS:
            given |= _tokens(getattr(provider, attr, ()) or ())
        for attr in FAMILY_ATTRS:
            family |= _tokens(getattr(provider, attr, ()) or ())
    return given, family


def _write(name: str, tokens: set[str]) -> None:
    data = "\n".join(sorted(tokens)) + "\n"
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as fh:
        fh.write(data.encode("utf-8"))


def _other_languages(names: set[str]) -> set[str]:
    """Stop words and greetings of the members' other languages, less name tokens and particles."""
    out = set(GREETINGS)
    for lang in OTHER_LANGUAGES:
        stop = importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS
        out |= {w.lower() for w in stop if w.isalpha()}
    lowered = {n.lower() for n in names}
    return {w for w in out if w not in lowered and w not in PARTICLES and w not in NAMES_TOO}


def _read(name: str) -> set[str]:
    with gzip.open(OUT / name, "rb") as fh:
        return set(fh.read().decode("utf-8").split())


def main() -> None:
    """Write the three lexicons (`--common-only`: common_words alone, against the committed name lists)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    stop = {w.lower() for w in STOP_WORDS}
    if "--common-only" in sys.argv[1:]:
        given, family = _read("given_names.txt.gz"), _read("family_names.txt.gz")
    else:
        given, family = _collect()
        given = {t for t in given if t.lower() not in stop}
        family = {t for t in family if t.lower() not in stop}
        OUT.mkdir(parents=True, exist_ok=True)
        _write("given_names.txt.gz", given)
        _write("family_names.txt.gz", family)
    common = {w.lower() for w in LoremProvider.word_list} | stop
    common |= _other_languages(given | family)
    _write("common_words.txt.gz", common)
    print(f"given={len(given)} family={len(family)} common={len(common)}")


if __name__ == "__main__":
    main()
