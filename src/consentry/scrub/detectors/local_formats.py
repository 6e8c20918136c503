"""Addresses and dates of birth written the local way, per language profile.

Addresses: the profile's street line ("Hauptstraße 12", "12 rue de la Paix",
"Calle Mayor 5", "Rua Augusta 100", "Via Roma 3", "Kerkstraat 5", "12, MG Road")
followed by the rest of the block up to the profile's postcode and the city after
it ("10115 Berlin", "75002 Paris", "São Paulo - SP, 01305-000", "1017 GC Amsterdam").
A street line without a postcode is left to the catalogue's address patterns.

Dates of birth: a date after one of the profile's birth words within 40 characters
("geboren am 3. März 1985", "né le 3 mars 1985", "nacido el 3 de marzo de 1985",
"DOB: 03/04/1985"); a birth word of another profile in the text brings that profile's
date rules too ("nato il 8 ottobre 1985" in a text read as Portuguese). Month names are
the profile's; a numeric date must be a real date read day first (every profiled language
writes day first), or either way round when the language is undecided.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Sequence
from typing import Any

from consentry.scrub.detectors.localized import LocalizedDetector, words_before, words_regex
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LanguageProfile, load_profiles

__all__ = ["LocalFormatDetector", "real_date"]

_UP = r"[A-ZÀ-ÖØ-ÞĀ-ſ]"
_LOW = r"[a-zß-öø-ÿā-ſ]"
_CAPW = rf"{_UP}(?:{_LOW}|['’.-](?={_LOW})){{0,30}}"
_NUM = r"[0-9]{1,5}(?:[ ]?[A-Za-z](?![\w'’]))?(?:[-/][0-9]{1,4}[A-Za-z]?)?"
_LINK = (
    r"(?:de|del|de la|de los|das|da|do|dos|di|della|dello|dei|la|le|les|du|des|von|van|der|den|e|y|am|an|im|in|"
    r"aan|aan de|aan den|op|en|en 't|sur|sous|sul|sulla|al|all'|gem\.)"
)
_NAMEW = rf"(?:[A-Z]{{2,4}}(?![\w'’])|{_CAPW})"  # a word of a name, or an acronym ("MG Road")
_WORDS = rf"(?:{_LINK}[ ])?{_NAMEW}(?:[ ](?:{_LINK}[ ])?(?:{_NAMEW}|[0-9]{{1,2}}(?:º|ª|°)?)){{0,4}}"
_PLACEW = rf"{_CAPW}(?:{_UP}{_LOW}{{2,20}})?"  # "Sainte Alexandrie", "ChartierVille"
_PLACE = rf"{_PLACEW}(?:[ -](?:{_LINK}[ -])?(?:{_PLACEW}|[0-9]{{1,2}}[ºª°]?)){{0,5}}['’]?"
_NO = r"(?:n[º°o]\.?[ ]?|nr\.?[ ]?|,[ ]?)?"

#: Units after the house number: "Appartamento 11", "Piano 2", "Piso 3", "Puerta 4", "Apt. 81", "apto 12".
_UNITS = {
    "it": r"(?:,?[ ](?:Appartamento|App\.|Piano|Scala|Interno|Int\.)[ ]?[0-9A-Za-z]{1,4})?",
    "es": r"(?:,?[ ](?:Apt\.|Apto\.?|Piso|Puerta|Pta\.|Esc\.|Escalera|Bajo)[ ]?[0-9A-Za-z]{0,4}"
    r"|,?[ ][0-9]{1,2}(?:º|ª|°)[ ]?[A-Z]?)?",
    "pt-BR": r"(?:,?[ ](?i:apto|apt|ap|casa|bloco|sala)\.?[ ]?[0-9]{1,5})?",
}
_DE_TYPES = r"Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee|Markt|Steig|Pfad"
_NL_TYPES = (
    r"straat|laan|baan|weg|plein|gracht|kade|singel|dijk|steeg|hof|park|ring|boulevard|pad|dreef|markt|wal|"
    r"plantsoen|erf|veld|burg"
)
_ES_TYPES = (
    r"calle|c/|c\.|avenida|avda\.?|av\.|paseo|plaza|camino|carretera|ronda|rambla|travesía|pasaje|pasadizo|"
    r"glorieta|urbanización|urb\.|callejón|cañada|cuesta|acceso|vial|via|vía|alameda|bulevar|carrera"
)
_PT_TYPES = (
    r"rua|r\.|avenida|av\.|travessa|alameda|praça|praca|estrada|rodovia|largo|esplanada|setor|quadra|fazenda|"
    r"lago|lagoa|vereda|viela|via|conjunto|chácara|sítio|loteamento|residencial|parque|jardim|ladeira|aeroporto|"
    r"área|campo|colônia|condomínio|distrito|estação|favela|feira|morro|núcleo|passarela|pátio|praia|recanto|"
    r"trecho|trevo|vale|viaduto|vila"
)
_IT_TYPES = (
    r"via|viale|piazza|piazzale|corso|vicolo|largo|strada|borgo|contrada|rotonda|incrocio|stretto|canale|"
    r"lungomare|lungotevere|salita|traversa|località|loc\.|frazione|fraz\."
)

#: Each profile's street lines: the part before the rest of the block.
_STREETS: dict[str, str] = {
    "de": rf"(?:{_CAPW}[ -])?{_UP}{_LOW}{{1,30}}(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer)"
    rf"[ ]{{1,2}}{_NUM}|{_CAPW}(?:[ ]{_CAPW})?[ ](?:{_DE_TYPES})[ ]{_NUM}"
    rf"|(?:{_CAPW}-){{1,3}}(?:{_DE_TYPES})[ ]{_NUM}",  # "Zofia-Sorgatz-Straße 1/1"
    "fr": rf"(?:{_NUM},?[ ](?:bis[ ]|ter[ ])?)?(?i:rue|avenue|av\.|boulevard|bd|place|allée|allee|impasse|quai|"
    rf"chemin|route|cours|passage|square)[ ]{_WORDS}",
    "es": rf"(?i:{_ES_TYPES})[ ]?{_WORDS},?[ ]{_NO}{_NUM}{_UNITS['es']}",
    "pt-BR": rf"(?i:{_PT_TYPES})[ ]{_WORDS}(?:,?[ ]{_NO}{_NUM}{_UNITS['pt-BR']})?",
    "it": rf"(?i:{_IT_TYPES})[ ]{_WORDS},?[ ]{_NO}{_NUM}{_UNITS['it']}",
    "nl": rf"{_UP}{_LOW}{{1,30}}(?:{_NL_TYPES})[ ]{_NUM}"
    rf"|{_CAPW}(?:[ ]{_CAPW})?[ ](?:Straat|Laan|Weg|Plein|Gracht|Kade|Dreef|Singel)[ ]{_NUM}",
    "en-IN": rf"(?:Flat|House|H\.?[ ]?No\.?|Plot|Door)[ ]?(?:No\.?[ ]?)?[0-9A-Z/-]{{1,8}}"
    rf"|[0-9]{{1,4}}(?:/[0-9]{{1,4}})?,[ ]{_WORDS}|"
    rf"(?:(?:Flat|House|H\.?[ ]?No\.?|Plot|Door)[ ]?(?:No\.?[ ]?)?[0-9A-Z/-]{{1,8}},?[ ])?"
    rf"(?:{_NUM},?[ ])?{_WORDS}[ ](?:Road|Rd\.?|Marg|Nagar|Colony|Street|Lane|Chowk|Bazaar|Bazar|Layout|Enclave"
    rf"|Vihar|Ganj|Path|Circle|Zila|Sector[ ][0-9]{{1,3}})",
}


def _postcode_end(code: str) -> str:
    """The postcode closing a street line's block (what every address match of the profile holds)."""
    return rf"[ ,-]{{1,3}}(?:[A-Z]{{1,2}}-)?(?:{load_profiles()[code].postcode})(?![\w-])"


@functools.cache
def _address_regex(code: str) -> re.Pattern[str]:
    """Street line, then up to three parts (district, city, region) and the postcode, then a city."""
    part = rf"(?:{_PLACE}(?:[ ]?[-–/][ ]?[A-Z]{{2}})?|\([A-Z]{{2}}\))"
    tail = (
        rf"(?:,?[ ]{{1,2}}{part}){{0,3}}{_postcode_end(code)}"
        rf"(?:,?[ ]{{1,2}}(?:{_LINK}[ ])?{_PLACE}(?:[ ]\([A-Z]{{2}}\)|[ ]?[-–/][ ]?[A-Z]{{2}}(?!\w))?)?"
    )
    return re.compile(rf"(?<![\w.-])(?:{_STREETS[code]}){tail}")


def real_date(day: int, month: int, year: int) -> bool:
    """True when day/month/year is a date between 1900 and today."""
    try:
        return datetime.date(1900, 1, 1) <= datetime.date(year, month, day) <= datetime.date.today()
    except ValueError:
        return False


_NUMERIC = re.compile(r"(?<![\d/.-])([0-9]{1,2})[./-]([0-9]{1,2})[./-]((?:19|20)[0-9]{2})(?![\d/.-]?[0-9])")


@functools.cache
def _text_date(code: str) -> re.Pattern[str]:
    months = "|".join(f"(?P<m{i}>{m})" for i, m in enumerate(load_profiles()[code].months))
    return re.compile(
        rf"(?<!\w)(?P<d>[0-9]{{1,2}})(?:\.|º|°|er|st|nd|rd|th)?[ ](?:de[ ]|of[ ])?(?:{months})\.?,?[ ]"
        rf"(?:de[ ])?(?P<y>(?:19|20)[0-9]{{2}})(?!\w)",
        re.IGNORECASE,
    )


class LocalFormatDetector(LocalizedDetector):
    """Addresses ending in a local postcode, and dates of birth in local words and order."""

    name = "local_formats"

    def __init__(self, entities: frozenset[EntityType], min_score: float = 0.5) -> None:
        self.min_score = min_score
        self.entities = frozenset({EntityType.STREET_ADDRESS, EntityType.DATE_OF_BIRTH}) & entities

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalFormatDetector, (self.entities, self.min_score))

    def scan_expressions(self) -> Sequence[tuple[str, int]]:
        """Every profile's postcode closing an address block, the numeric date and every profile's written date."""
        codes = list(load_profiles())
        addresses = [(_postcode_end(c), 0) for c in codes]
        dates = [(_text_date(c).pattern, re.IGNORECASE) for c in codes]
        return (*addresses, (_NUMERIC.pattern, 0), *dates)

    def detect_local(self, text: str, profiles: Sequence[LanguageProfile], region: str | None) -> list[Finding]:
        """Local addresses and dates of birth of `profiles`."""
        if not any(c.isdigit() for c in text) or not profiles:
            return []
        out: list[Finding] = []
        if EntityType.STREET_ADDRESS in self.entities:
            for p in profiles:
                for m in _address_regex(p.code).finditer(text):
                    note = f"{p.code} street line with postcode"
                    out.append(
                        Finding(*m.span(), EntityType.STREET_ADDRESS, 0.97, self.name, f"address_{p.code}", None, note)
                    )
        if EntityType.DATE_OF_BIRTH in self.entities:
            out.extend(self._births(text, profiles))
        return [f for f in out if f.score >= self.min_score]

    def _births(self, text: str, profiles: Sequence[LanguageProfile]) -> list[Finding]:
        either_way = len(profiles) > 1
        profiles = _with_birth_words_in(text, profiles)
        cue = _birth_words(tuple(p.code for p in profiles))
        if cue.search(text) is None:
            return []
        out: list[Finding] = []
        for m in _NUMERIC.finditer(text):
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if (real_date(a, b, y) or (either_way and real_date(b, a, y))) and words_before(cue, text, m.start()):
                out.append(
                    Finding(
                        *m.span(),
                        EntityType.DATE_OF_BIRTH,
                        0.92,
                        self.name,
                        "dob_local_numeric",
                        True,
                        "a real date after a birth word",
                    )
                )
        for p in profiles:
            for m in _text_date(p.code).finditer(text):
                month = next(int(k[1:]) + 1 for k, v in m.groupdict().items() if k.startswith("m") and v)
                if real_date(int(m.group("d")), month, int(m.group("y"))) and words_before(cue, text, m.start()):
                    out.append(
                        Finding(
                            *m.span(),
                            EntityType.DATE_OF_BIRTH,
                            0.92,
                            self.name,
                            f"dob_{p.code}",
                            True,
                            f"{p.code} date after a birth word",
                        )
                    )
        return out


def _with_birth_words_in(text: str, profiles: Sequence[LanguageProfile]) -> Sequence[LanguageProfile]:
    """`profiles`, plus those whose birth words the text uses ("nato il" in a text read as Portuguese)."""
    every = load_profiles()
    if len(profiles) == len(every) or _birth_words(tuple(every)).search(text) is None:
        return profiles
    have = {p.code for p in profiles}
    extra = [p for c, p in every.items() if c not in have and _birth_words((c,)).search(text)]
    return [*profiles, *extra] if extra else profiles


@functools.cache
def _birth_words(codes: tuple[str, ...]) -> re.Pattern[str]:
    profiles = load_profiles()
    return words_regex(w for c in codes for w in profiles[c].birth_words)
