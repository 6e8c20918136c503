"""Derive the scrubber's name lexicons from Faker's person providers (MIT licence).

Run at development time only; the output is committed as package data:

    .venv/bin/python bench/corpora/make_name_lexicon.py

Writes src/consentry/scrub/data/{given_names,family_names,common_words}.txt.gz:
one token per line, the union over every Faker locale, so names from many
cultures are covered. `common_words` is Faker's English lorem word list plus
spaCy's English stop words; a name token that is also a common word needs
stronger evidence before it counts as a person.
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
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


def main() -> None:
    """Write the three lexicons."""
    from spacy.lang.en.stop_words import STOP_WORDS

    given, family = _collect()
    stop = {w.lower() for w in STOP_WORDS}
    common = {w.lower() for w in LoremProvider.word_list} | stop
    given = {t for t in given if t.lower() not in stop}
    family = {t for t in family if t.lower() not in stop}
    OUT.mkdir(parents=True, exist_ok=True)
    _write("given_names.txt.gz", given)
    _write("family_names.txt.gz", family)
    _write("common_words.txt.gz", common)
    print(f"given={len(given)} family={len(family)} common={len(common)}")


if __name__ == "__main__":
    main()
