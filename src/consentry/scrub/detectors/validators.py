"""Validators: confirm a candidate with the right library (check digits, numbering plans)."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.us import ssn

__all__ = [
    "Verdict",
    "card_scheme",
    "strong_card_prefixes",
    "validate_card",
    "validate_iban",
    "validate_ip",
    "validate_national_id",
    "validate_phone",
    "validate_phone_shape",
    "validate_secret_value",
    "validate_ssn",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A validator's answer: valid or not, an optional new score and a note for the explanation.

    `length` trims the match to its first `length` characters when set.
    """

    ok: bool
    note: str
    score: float | None = None
    length: int | None = None


def _digits(value: str) -> str:
    return "".join(filter(str.isdigit, value))


#: Issuer (IIN) prefix ranges with their card-number lengths. `strong` schemes are found without
#: context; the rest (Maestro's 12-19 digits, JCB's 15-digit 1800/2131, ...) need a card word nearby.
_IIN_RANGES: tuple[tuple[str, int, int, frozenset[int], bool], ...] = (
    ("Visa", 4, 4, frozenset({13, 16, 19}), True),
    ("Mastercard", 51, 55, frozenset({16}), True),
    ("Mastercard", 2221, 2720, frozenset({16}), True),
    ("Amex", 34, 34, frozenset({15}), True),
    ("Amex", 37, 37, frozenset({15}), True),
    ("Diners", 300, 305, frozenset({14, 16}), True),
    ("Diners", 36, 36, frozenset({14}), True),
    ("Diners", 38, 39, frozenset({14, 16}), True),
    ("Discover", 6011, 6011, frozenset({16, 19}), True),
    ("Discover", 644, 649, frozenset({16, 19}), True),
    ("Discover", 65, 65, frozenset({16, 19}), True),
    ("JCB", 35, 35, frozenset({16, 17, 18, 19}), True),  # 3528-3589 assigned; 35 as issued in practice
    ("JCB", 1800, 1800, frozenset({15}), False),
    ("JCB", 2131, 2131, frozenset({15}), False),
    ("UnionPay", 62, 62, frozenset({16, 17, 18, 19}), True),
    ("Mir", 2200, 2204, frozenset({16, 17, 18, 19}), True),
    ("RuPay", 60, 60, frozenset({16}), False),
    ("RuPay", 508, 508, frozenset({16}), False),
    ("Verve", 506, 507, frozenset({16, 18, 19}), False),
    ("Maestro", 50, 50, frozenset(range(12, 20)), False),
    ("Maestro", 56, 69, frozenset(range(12, 20)), False),
)


def card_scheme(digits: str) -> tuple[str, bool] | None:
    """The card scheme whose IIN range and length fit `digits`, and whether it is a strong one."""
    best: tuple[str, bool] | None = None
    for name, lo, hi, lengths, strong in _IIN_RANGES:
        width = len(str(lo))
        if len(digits) in lengths and lo <= int(digits[:width]) <= hi:
            if strong:
                return name, True
            best = best or (name, False)
    return best


def strong_card_prefixes() -> tuple[str, ...]:
    """The two-digit starts of every number in a strong scheme's issuer ranges (found without context)."""
    out: set[str] = set()
    for _name, lo, hi, _lengths, strong in _IIN_RANGES:
        if strong:
            width = len(str(lo))
            out.update(f"{x}{d}"[:2] for x in range(lo, hi + 1) for d in ("0123456789" if width == 1 else "0"))
    return tuple(sorted(out))


def validate_card(value: str) -> Verdict:
    """A payment card number in any grouping: a known issuer range and length and a valid Luhn
    check digit; trailing digit groups are dropped until it validates (a number followed by more)."""
    if sum(map(str.isdigit, value)) < 12:
        return Verdict(False, "too few digits")
    groups = value.replace("-", " ").split(" ")
    for k in range(len(groups), 0, -1):
        d = "".join(groups[:k])
        scheme = card_scheme(d) if 12 <= len(d) <= 19 else None
        if scheme is not None and luhn.is_valid(d):
            name, strong = scheme
            length = sum(map(len, groups[:k])) + k - 1  # single-character separators
            return Verdict(True, f"{name} range, luhn ok", score=None if strong else 0.4, length=length)
    return Verdict(False, "no issuer range with a valid luhn check digit")


def validate_iban(value: str) -> Verdict:
    """An IBAN with valid country format and check digits; trailing groups are dropped until valid."""
    parts = value.split(" ")
    while parts:
        candidate = "".join(parts)
        if len(candidate) >= 15 and std_iban.is_valid(candidate):
            return Verdict(True, "iban check digits ok", length=len(" ".join(parts)))
        parts.pop()
    return Verdict(False, "iban check digits failed")


def validate_ssn(value: str) -> Verdict:
    """A US social security number: consistent separators, valid area, group and serial."""
    seps = [c for c in value if not c.isdigit()]
    if seps and (len(seps) != 2 or seps[0] != seps[1]):
        return Verdict(False, "inconsistent separators")
    if not ssn.is_valid(_digits(value)):
        return Verdict(False, "invalid area/group/serial")
    return Verdict(True, "ssn structure ok", score=None if seps else 0.45)


def validate_ip(value: str) -> Verdict:
    """An IPv4 or IPv6 address as the ipaddress module parses it."""
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return Verdict(False, "not an ip address")
    return Verdict(True, f"ipv{addr.version} ok")


_NATIONAL_GROUPING = re.compile(r"\(?[0-9]{1,5}\)?(?:[ .\-/]{0,2}[0-9]{1,8}){0,6}")


@functools.lru_cache(maxsize=65536)
def validate_phone(value: str) -> Verdict:
    """A phone number: +CC numbers validated with phonenumbers' metadata for that country;
    national numbers by digit count and grouping (a region loop costs ~0.4 ms a number)."""
    d = _digits(value)
    if not 6 <= len(d) <= 15:
        return Verdict(False, "digit count")
    stripped = value.strip()
    if stripped.startswith(("+", "00")):
        text = "+" + stripped[2:] if stripped.startswith("00") else stripped
        try:
            num = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            return Verdict(False, "unparseable international number")
        if phonenumbers.is_valid_number(num):
            return Verdict(True, "valid international number", score=0.9)
        if phonenumbers.is_possible_number(num):
            return Verdict(True, "possible international number", score=0.7)
        return Verdict(False, "invalid international number")
    if not 7 <= len(d) <= 12 and not (len(d) == 6 and " " in stripped):
        return Verdict(False, "national digit count")
    if not _NATIONAL_GROUPING.fullmatch(stripped):
        return Verdict(False, "not a phone grouping")
    if len(d) == 10 and d[0] in "23456789" and d[3] in "23456789":
        return Verdict(True, "NANP shape", score=0.65)
    return Verdict(True, "national grouping")


_NATIONAL_IDS = (
    ("BR CPF", cpf),
    ("ES DNI", dni),
    ("ES NIE", nie),
    ("FR NIR", nir),
    ("IN Aadhaar", aadhaar),
    ("IT codice fiscale", codicefiscale),
    ("NL BSN", bsn),
    ("PL PESEL", pesel),
)


@functools.lru_cache(maxsize=65536)
def validate_national_id(value: str) -> Verdict:
    """A national id whose check digit python-stdnum confirms (CPF, DNI, NIE, NIR, Aadhaar, …)."""
    for label, module in _NATIONAL_IDS:
        try:
            if module.is_valid(value):
                return Verdict(True, f"{label} check digit ok")
        except Exception:
            continue
    return Verdict(False, "no national id scheme validates it")


_DATE_LIKE = re.compile(
    r"(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d\d|(?:19|20)\d\d-(?:19|20)\d\d"
)


@functools.lru_cache(maxsize=65536)
def validate_phone_shape(value: str) -> Verdict:
    """Reject dates and year ranges, then validate as a phone number."""
    if _DATE_LIKE.fullmatch(value.strip()):
        return Verdict(False, "looks like a date")
    digits = _digits(value)
    plain = digits == value.strip()
    if plain and len(digits) < 7:
        return Verdict(False, "too few digits without separators")
    verdict = validate_phone(value)
    if verdict.ok and plain and verdict.score is None:
        return Verdict(True, verdict.note + ", bare digit run", score=0.4)
    return verdict


def validate_secret_value(value: str) -> Verdict:
    """A value after 'password is' / 'token:' that looks like a credential, not an ordinary word."""
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    if has_digit or has_symbol or mixed or len(value) >= 12:
        return Verdict(True, "credential-like value")
    return Verdict(False, "ordinary word")
