"""Consistent surrogates under a per-build key: the same person or value, the same fake, in every record.

`PseudonymOperator` replaces names token by token: every given name and every family
name is mapped on its own, by HMAC-SHA256 under the key, to a name from the lexicon's
lists, so "Anna Weber", "Anna" and "Weber" in three records become "Lotte Brandt",
"Lotte" and "Brandt". Particles ("van", "de", "da") are kept. E-mail addresses become
``given.family@example.<tld>`` (the original's top-level domain and separator kept),
phone numbers keep their international prefix, separators and length with every other
digit replaced, and any other value keeps its shape (digits for digits, letters for
letters). Without the key a surrogate cannot be traced back: hashing candidate values
(a dictionary attack) gives nothing to compare it with.

`scrub_key` derives a build's key from the store's pseudonym key and a per-build salt,
under its own label, so the scrub key is never the member-pseudonym key and differs
from build to build.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import phonenumbers

from consentry.scrub.entities import EntityType
from consentry.scrub.languages import load_profiles

__all__ = ["SCRUB_KEY_LABEL", "PseudonymNames", "pseudonym_apply", "scrub_key"]

#: The label that separates the scrub key from every other key derived from the pseudonym key.
SCRUB_KEY_LABEL = b"consentry/scrub-surrogates/v1\x00"

#: Particles kept as written between surrogate name words ("van den", "de la"): every language profile's
#: single-word particles, and the Arabic and Spanish articles of names ("al", "el").
_PARTICLES = frozenset(
    {p.casefold() for profile in load_profiles().values() for p in profile.particles if " " not in p} | {"al", "el"}
)
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def scrub_key(pseudonym_key: bytes, salt: str) -> bytes:
    """The key for one build's surrogates: HMAC-SHA256(pseudonym key, label + salt)."""
    return hmac.digest(pseudonym_key, SCRUB_KEY_LABEL + salt.encode("utf-8"), "sha256")


def script_of(word: str) -> str:
    """The script of `word`'s first letter as Unicode names it ("LATIN", "CYRILLIC", "GREEK", ...)."""
    for c in word:
        if c.isalpha():
            return "LATIN" if c < "\u0250" else unicodedata.name(c, "LATIN").split()[0]
    return "LATIN"


class PseudonymNames:
    """The name lists surrogates are drawn from, per script, and the names the lexicon knows only as family names."""

    def __init__(self, given: list[str], family: list[str], family_only: frozenset[str]) -> None:
        self.given = _by_script(given)
        self.family = _by_script(family)
        self.family_only = family_only
        self.ascii_given = [n for n in self.given["LATIN"] if n.isascii()]
        self.ascii_family = [n for n in self.family["LATIN"] if n.isascii()]

    def pool(self, family: bool, script: str) -> list[str]:
        """The list to draw from: a name in the same script, else a Latin one."""
        pools = self.family if family else self.given
        return pools.get(script) or pools["LATIN"]


def _by_script(names: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"LATIN": []}
    for n in names:
        out.setdefault(script_of(n), []).append(n)
    return out


def _digest(key: bytes, *parts: str) -> bytes:
    msg = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hmac.digest(key, msg, "sha256")


def _pick(options: list[str], digest: bytes) -> str:
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def _like_case(model: str, value: str) -> str:
    if model.isupper() and len(model) > 1:
        return value.upper()
    if model.islower():
        return value.lower()
    return value


def _person(key: bytes, names: PseudonymNames, value: str) -> str:
    """Word by word (whitespace apart): the first of several is a given name, the others family names;
    a lone word is a family name when the lexicon knows it only as one. Hyphenated parts share their word's role."""
    parts = re.split(r"(\s+)", value)
    words = [i for i, p in enumerate(parts) if p.strip() and p.casefold() not in _PARTICLES]
    out = list(parts)
    for n, i in enumerate(words):
        bare = parts[i].rstrip(".,")
        family = n > 0 if len(words) > 1 else bare in names.family_only
        out[i] = "-".join(_token(key, names, t, family) for t in bare.split("-")) + parts[i][len(bare) :]
    return "".join(out)


def _token(key: bytes, names: PseudonymNames, token: str, family: bool) -> str:
    if len(token) <= 1:  # an initial stays an initial
        letter = _LOWER[_digest(key, "initial", token.casefold())[0] % 26]
        return _like_case(token or "A", letter.upper())
    role = "family" if family else "given"
    pool = names.pool(family, script_of(token))
    digest = _digest(key, role, token.casefold())
    picked = _pick(pool, digest)
    if picked.casefold() == token.casefold() and len(pool) > 1:  # a surrogate never reads as the original
        picked = pool[(pool.index(picked) + 1) % len(pool)]
    return _like_case(token, picked)


def _email(key: bytes, names: PseudonymNames, value: str) -> str:
    local, _, domain = value.rpartition("@")
    d = _digest(key, "email", value.casefold())
    sep = next((c for c in "._-" if c in local), ".")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else "org"
    given, family = _pick(names.ascii_given, d[:8]), _pick(names.ascii_family, d[8:16])
    return f"{given.lower()}{sep}{family.lower()}@example.{tld.lower()}"


def _digits(key: bytes, entity: EntityType, value: str, keep: int) -> str:
    """`value` with every digit after the first `keep` replaced by keyed digits; the rest kept. Never `value`
    itself: a draw that repeats every replaced digit is drawn again."""
    # a phone is the same number however it is written; other values are keyed as written (case aside)
    ident = re.sub(r"\D", "", value) if entity is EntityType.PHONE else " ".join(value.split()).casefold()
    for attempt in range(8):
        out = _draw(key, entity, value, keep, ident if attempt == 0 else f"{ident}\x00{attempt}")
        if out != value:
            break
    return out


def _draw(key: bytes, entity: EntityType, value: str, keep: int, ident: str) -> str:
    stream = hashlib.sha256(_digest(key, entity.value, ident)).digest() * (len(value) // 32 + 1)
    out, seen = [], 0
    for i, c in enumerate(value):
        if c.isdigit():  # the n-th digit draws the n-th byte: the same number however it is spaced
            out.append(c if seen < keep else str(stream[seen] % 10))
            seen += 1
        elif c.isalpha():
            ch = _LOWER[stream[i] % 26]
            out.append(ch.upper() if c.isupper() else ch)
        else:
            out.append(c)
    return "".join(out)


def pseudonym_apply(key: bytes, names: PseudonymNames, value: str, entity: EntityType) -> str:
    """The consistent surrogate of `value`, a finding of `entity`, under `key`."""
    if entity is EntityType.PERSON:
        return _person(key, names, value)
    if entity is EntityType.EMAIL and "@" in value:
        return _email(key, names, value)
    if entity is EntityType.PHONE:
        stripped = value.lstrip()
        keep = _country_code_digits(stripped) if stripped.startswith("+") else 1 if stripped.startswith("0") else 0
        return _digits(key, entity, value, keep)  # the country code or trunk prefix stays
    return _digits(key, entity, value, 0)


def _country_code_digits(number: str) -> int:
    """How many leading digits of an international `number` are its country code (1 to 3)."""
    try:
        return len(str(phonenumbers.parse(number, None).country_code))
    except phonenumbers.NumberParseException:
        return 1  # unknown: keep only the first digit, which every country code has
