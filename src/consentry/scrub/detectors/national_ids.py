"""National identifiers of the languages' local rules: candidate regex, then python-stdnum's check.

Each scheme belongs to one language profile (the country whose members write it).
A candidate the scheme's stdnum module rejects (check digit, date, holder type) is
dropped before anything else is computed. A text that names a scheme ("CPF", "codice
fiscale", "BSN", …) is checked for that scheme whatever its language. Schemes whose check digit passes by chance
too often for digits alone (BSN's 11-proof, the Steuer-IdNr, a bare 12-digit Aadhaar)
need a word naming them shortly before, or a score lower than the configured minimum.
A PAN (five letters, four digits, a letter, its fourth letter the holder type) is checked in
every record, with or without a hint: no other common token has its shape. A record with no
rules and no hint (English by a member of unknown country) is checked only for those and for
an Aadhaar after its name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from stdnum.br import cnpj, cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn

from consentry.scrub.detectors.localized import LocalizedDetector, words_before, words_regex
from consentry.scrub.entities import LOCAL_ID_ENTITIES, EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LanguageProfile

__all__ = ["SCHEMES", "IdScheme", "NationalIdDetector"]


@dataclass(frozen=True)
class IdScheme:
    """One national identifier: the profile it belongs to, its candidate shape and stdnum module.

    `score` is the confidence of a validated candidate; `context` words within 40
    characters before it add `boost` (a scheme with a low `score` needs them).
    """

    name: str
    language: str
    entity: EntityType
    regex: str
    module: ModuleType
    score: float
    context: tuple[str, ...] = ()
    boost: float = 0.4
    #: Checked in every record, whatever its language and country: a shape and check no other use shares.
    anywhere: bool = False
    #: Lower-case words that, in a record with no rules and no hint (English), have the scheme checked.
    unhinted_words: tuple[str, ...] = ()
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)
    cue: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.regex))
        object.__setattr__(self, "cue", words_regex(self.context) if self.context else None)


SCHEMES: tuple[IdScheme, ...] = (
    IdScheme(
        "de_idnr",
        "de",
        EntityType.DE_TAX_ID,
        r"(?<![\w.,/+-])[1-9][0-9](?:[ /]?[0-9]{3}){3}(?![\w-])",
        idnr,
        0.45,
        (
            "Steuer-ID",
            "Steuer-IdNr",
            "Steuer-Identifikationsnummer",
            "Steueridentifikationsnummer",
            "IdNr",
            "Steuernummer",
            "Identifikationsnummer",
            "TIN",
            "tax id",
            "Steuer ID",
        ),
        0.5,
    ),
    IdScheme(
        "fr_nir",
        "fr",
        EntityType.FR_NIR,
        r"(?<![\w.,/+-])[12][ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?(?:[0-9]{2}|2[AB])[ ]?[0-9]{3}[ ]?[0-9]{3}[ ]?[0-9]{2}"
        r"(?![\w-])",
        nir,
        0.97,
        ("NIR", "sécurité sociale", "securite sociale", "numéro de sécu", "n° de sécu", "INSEE"),
        0.02,
    ),
    IdScheme(
        "es_dni",
        "es",
        EntityType.ES_DNI,
        r"(?<![\w-])[0-9]{8}[- ]?[A-Za-z](?![\w-])",
        dni,
        0.9,
        ("DNI", "NIF", "documento", "D.N.I."),
        0.05,
    ),
    IdScheme(
        "es_nie",
        "es",
        EntityType.ES_NIE,
        r"(?<![\w-])[XYZxyz][- ]?[0-9]{7}[- ]?[A-Za-z](?![\w-])",
        nie,
        0.92,
        ("NIE", "extranjero"),
        0.05,
    ),
    IdScheme(
        "br_cpf",
        "pt-BR",
        EntityType.BR_CPF,
        r"(?<![\w.,/-])(?:[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|[0-9]{11})(?![\w-])",
        cpf,
        0.6,
        ("CPF", "cadastro de pessoa"),
        0.37,
    ),
    IdScheme(
        "br_cnpj",
        "pt-BR",
        EntityType.BR_CNPJ,
        r"(?<![\w.,/-])(?:[0-9]{2}\.[0-9]{3}\.[0-9]{3}/[0-9]{4}-[0-9]{2}|[0-9]{14})(?![\w-])",
        cnpj,
        0.6,
        ("CNPJ",),
        0.37,
    ),
    IdScheme(
        "it_codice_fiscale",
        "it",
        EntityType.IT_FISCAL_CODE,
        r"(?<![\w-])[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z]"
        r"[0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?![\w-])",
        codicefiscale,
        0.97,
        ("codice fiscale", "cod. fiscale", "C.F.", "CF"),
        0.02,
    ),
    IdScheme(
        "nl_bsn",
        "nl",
        EntityType.NL_BSN,
        r"(?<![\w.,/-])(?:[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3})(?![\w-])",
        bsn,
        0.45,
        ("BSN", "burgerservicenummer", "sofinummer", "sofi-nummer"),
        0.5,
    ),
    IdScheme(
        "in_aadhaar",
        "en-IN",
        EntityType.IN_AADHAAR,
        r"(?<![\w.,/+-])[2-9][0-9]{3}(?:[ -]?[0-9]{4}){2}(?![\w-])",
        aadhaar,
        0.55,
        ("Aadhaar", "Aadhar", "Adhaar", "UID", "UIDAI", "आधार"),
        0.4,
        unhinted_words=("aadhaar", "aadhar", "adhaar", "uidai", "आधार"),
    ),
    IdScheme(
        "in_pan",
        "en-IN",
        EntityType.IN_PAN,
        r"(?<![\w-])[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z](?![\w-])",
        pan,
        0.9,
        ("PAN", "permanent account"),
        0.07,
        anywhere=True,
    ),
)


_DIGIT = re.compile(r"[0-9]")


class NationalIdDetector(LocalizedDetector):
    """National identifiers of the record's language profiles, each confirmed by python-stdnum."""

    name = "national_ids"
    unhinted = True  # schemes named in the text, and those checked anywhere (PAN)

    def __init__(self, entities: frozenset[EntityType], min_score: float = 0.5) -> None:
        self.min_score = min_score
        self.schemes = tuple(s for s in SCHEMES if s.entity in entities)
        self.entities = frozenset(s.entity for s in self.schemes) & LOCAL_ID_ENTITIES
        self._any_cue = words_regex(w for s in self.schemes for w in s.context)
        self._anywhere = tuple(s for s in self.schemes if s.anywhere)
        self._by_word = tuple(s for s in self.schemes if s.unhinted_words and not s.anywhere)

    def __reduce__(self) -> tuple[Any, ...]:
        return (NationalIdDetector, (self.entities, self.min_score))

    def scan_expressions(self) -> Sequence[tuple[str, int]]:
        """Each scheme's candidate shape."""
        return tuple((s.regex, 0) for s in self.schemes)

    def detect_local(self, text: str, profiles: Sequence[LanguageProfile], region: str | None) -> list[Finding]:
        """Validated identifiers of the schemes of `profiles`, and of any scheme named in the text
        ("codice fiscale …" in a text read as another language)."""
        if _DIGIT.search(text) is None:  # every identifier holds a digit
            return []
        if not profiles and region is None:  # no rules and no hint (English): the cheap, unambiguous checks
            low = text.lower() if self._by_word else ""
            found = [f for s in self._anywhere for f in self._scheme(s, text)]
            for s in self._by_word:
                if any(w in low for w in s.unhinted_words):
                    found.extend(self._scheme(s, text))
            return found
        codes = {p.code for p in profiles}
        named = self._any_cue.search(text) is not None
        out: list[Finding] = []
        for s in self.schemes:
            if s.language in codes or s.anywhere or (named and s.cue is not None and s.cue.search(text)):
                out.extend(self._scheme(s, text))
        return out

    def _scheme(self, s: IdScheme, text: str) -> list[Finding]:
        out: list[Finding] = []
        for m in s.compiled.finditer(text):
            if not _valid(s.module, m.group()):
                continue
            score, notes = s.score, [f"{s.name} check ok (stdnum)", f"base {s.score:.2f}"]
            if s.cue is not None and words_before(s.cue, text, m.start()):
                score += s.boost
                notes.append(f"context {s.boost:+.2f}")
            score = min(score, 0.99)
            if score >= self.min_score:
                out.append(Finding(m.start(), m.end(), s.entity, score, self.name, s.name, True, "; ".join(notes)))
        return out


def _valid(module: ModuleType, value: str) -> bool:
    try:
        return bool(module.is_valid(value.upper()))
    except Exception:  # a stdnum module that raises on odd input: not a valid identifier
        return False
