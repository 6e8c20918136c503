"""Operators: how a finding is rewritten (tag, mask, keyed hash, realistic surrogate).

Operators are small classes looked up by name; detectors never transform text.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from abc import ABC, abstractmethod

from consentry.scrub.config import OperatorName
from consentry.scrub.detectors.lexicon import load_lexicon
from consentry.scrub.entities import EntityType
from consentry.scrub.operators.pseudonym import PseudonymNames, pseudonym_apply

__all__ = [
    "HashOperator",
    "MaskOperator",
    "Operator",
    "PseudonymOperator",
    "SurrogateOperator",
    "TagOperator",
    "build_operators",
]


class Operator(ABC):
    """Rewrites one found value."""

    name: OperatorName

    @abstractmethod
    def apply(self, value: str, entity: EntityType) -> str:
        """The replacement for `value`, a finding of `entity`."""


class TagOperator(Operator):
    """``<EMAIL>``: the type, nothing of the value."""

    name = OperatorName.TAG

    def apply(self, value: str, entity: EntityType) -> str:
        """The entity tag."""
        return f"<{entity.value}>"


class MaskOperator(Operator):
    """Every letter and digit replaced by the mask character; separators kept."""

    name = OperatorName.MASK

    def __init__(self, mask_char: str = "*") -> None:
        self.mask_char = mask_char

    def apply(self, value: str, entity: EntityType) -> str:
        """The value with its letters and digits masked."""
        return "".join(self.mask_char if c.isalnum() else c for c in value)


class _Keyed:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, entity: EntityType, value: str) -> bytes:
        msg = f"{entity.value}\x00{' '.join(value.split()).casefold()}".encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, msg, "sha256")  # one-shot C path, same bytes as hmac.new


class HashOperator(_Keyed, Operator):
    """``<EMAIL:5f1c0a9e2b7d>``: keyed HMAC-SHA256, same value → same token within a key."""

    name = OperatorName.HASH

    def apply(self, value: str, entity: EntityType) -> str:
        """A keyed pseudonym token."""
        return f"<{entity.value}:{self._digest(entity, value).hex()[:12]}>"


_LOWER = "abcdefghijklmnopqrstuvwxyz"


class SurrogateOperator(_Keyed, Operator):
    """A realistic fake of the same type and shape, chosen by keyed hash: consistent within a build."""

    name = OperatorName.SURROGATE

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self._given, self._family = _surrogate_names()

    def apply(self, value: str, entity: EntityType) -> str:
        """A fake value of the same entity and shape."""
        digest = self._digest(entity, value)
        if entity is EntityType.PERSON:
            return self._person(value, digest)
        if entity is EntityType.EMAIL:
            given, family = self._pick(self._given, digest, 0), self._pick(self._family, digest, 4)
            return f"{given.lower()}.{family.lower()}@example.org"
        return self._shape(value, digest)

    @staticmethod
    def _pick(options: list[str], digest: bytes, at: int) -> str:
        return options[int.from_bytes(digest[at : at + 4], "big") % len(options)]

    def _person(self, value: str, digest: bytes) -> str:
        tokens = value.split()
        if len(tokens) == 1:
            return self._pick(self._given, digest, 0)
        names = [self._pick(self._given, digest, 0)]
        names += [self._pick(self._family, digest, 4 + 4 * i) for i in range(min(len(tokens) - 1, 6))]
        return " ".join(names)

    @staticmethod
    def _shape(value: str, digest: bytes) -> str:
        """Same length and character classes: digits → digits, letters → letters of the same case."""
        stream = hashlib.sha256(digest).digest() * (len(value) // 32 + 1)
        out = []
        for i, c in enumerate(value):
            b = stream[i]
            if c.isdigit():
                out.append(str(b % 10))
            elif c.isalpha():
                ch = _LOWER[b % 26]
                out.append(ch.upper() if c.isupper() else ch)
            else:
                out.append(c)
        return "".join(out)


@functools.cache
def _pseudonym_names() -> PseudonymNames:
    """The lexicon's names usable as surrogates (no common words, no surname look-alikes), built once."""
    lex = load_lexicon()

    def usable(n: str) -> bool:
        return n.isalpha() and n.lower() not in lex.common and n.lower() not in lex.surname_lookalikes

    given = sorted(n for n in lex.given if usable(n))
    family = sorted(n for n in lex.family if usable(n))
    return PseudonymNames(given, family, frozenset(lex.family - lex.given))


class PseudonymOperator(Operator):
    """A realistic surrogate, consistent per name token and per value under the key (a build's scrub key).

    See `consentry.scrub.operators.pseudonym`: names token by token from the lexicon's
    lists, e-mails as given.family@example.<tld>, phones and other values shape-preserving.
    """

    name = OperatorName.PSEUDONYM

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._names: PseudonymNames | None = None  # built on first use: a scrubber that never uses it pays nothing

    def _lists(self) -> PseudonymNames:
        if self._names is None:
            self._names = _pseudonym_names()
        return self._names

    def apply(self, value: str, entity: EntityType) -> str:
        """The consistent surrogate of `value`."""
        return pseudonym_apply(self._key, self._lists(), value, entity)


def build_operators(key: bytes, mask_char: str = "*") -> dict[OperatorName, Operator]:
    """One instance of every operator, by name."""
    return {
        OperatorName.TAG: TagOperator(),
        OperatorName.MASK: MaskOperator(mask_char),
        OperatorName.HASH: HashOperator(key),
        OperatorName.SURROGATE: SurrogateOperator(key),
        OperatorName.PSEUDONYM: PseudonymOperator(key),
    }


@functools.cache
def _surrogate_names() -> tuple[list[str], list[str]]:
    """The ASCII given and family names surrogates draw from, sorted; filtered once per process, since every
    operator (one per key) draws from the same lists."""
    lex = load_lexicon()
    given = sorted(n for n in lex.given if n.isascii() and n.isalpha() and n.lower() not in lex.common)
    family = sorted(n for n in lex.family if n.isascii() and n.isalpha() and n.lower() not in lex.common)
    return given, family
