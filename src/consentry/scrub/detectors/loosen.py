"""A pattern's necessary condition in a form Hyperscan compiles exactly, for candidate-first scanning.

Hyperscan supports no lookaround or (in Unicode mode) ``\\b``. Compiled in prefilter mode
it drops them and may widen the rest, so it reports many texts where the pattern cannot
match (on hexadecimal word salad, every text for some address patterns). `loosen` rewrites
an expression into one Hyperscan compiles exactly and that matches wherever the original
does (a superset, never fewer):

- a negative lookbehind of one character class at the very start becomes "start of text,
  or a character outside the class, or any non-ASCII character"; a negative lookahead of
  one character class at the very end likewise (non-ASCII characters are let through
  because Hyperscan's and Python's Unicode classes may disagree on them; on ASCII they agree);
- every other lookaround and every ``\\b``/``\\B`` is removed (dropping a condition only
  widens what matches).

A text without a match of the loosened expression cannot hold a match of the original,
so the per-pattern `re` pass is skipped for it and the findings stay the same.

`ascii_classes` then makes the expression small and exact on ASCII text: every character
class (``[...]``, ``\\w``, ``\\d``, ``\\s`` and their negations) becomes the ASCII characters
Python's `re` puts in it, plus any non-ASCII character when it holds one. A class of a
thousand Unicode capitals ("[A-ZÀ-Þ…]") becomes "[A-Z] or non-ASCII": on ASCII text it
matches exactly what the original does (lower-case word salad has no candidate street name)
and Hyperscan compiles it exactly where it could not compile the original. Under
case-insensitive matching a letter whose case-folds leave ASCII (``k``: the Kelvin sign) or a
non-ASCII letter becomes "itself or non-ASCII".
"""

from __future__ import annotations

import functools
import re

__all__ = ["ascii_classes", "loosen", "unbounded"]

_LOOK = ("(?<!", "(?<=", "(?!", "(?=")
_NEGATED_ESCAPES = {"\\w": "\\W", "\\d": "\\D", "\\s": "\\S", "\\W": "\\w", "\\D": "\\d", "\\S": "\\s"}


def _class_end(rx: str, i: int) -> int:
    """The index after the character class starting at rx[i] == '['."""
    j = i + 1
    if j < len(rx) and rx[j] == "^":
        j += 1
    if j < len(rx) and rx[j] == "]":
        j += 1
    while j < len(rx) and rx[j] != "]":
        j += 2 if rx[j] == "\\" else 1
    return j + 1


def _group_end(rx: str, i: int) -> int:
    """The index after the group opened at rx[i] == '('."""
    depth, j = 0, i
    while j < len(rx):
        c = rx[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(rx, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced group")


def _negated_class(atom: str) -> str | None:
    """The complement of a single-character atom (a class, a class escape), or None."""
    if atom in _NEGATED_ESCAPES:
        return _NEGATED_ESCAPES[atom]
    if atom.startswith("[") and _class_end(atom, 0) == len(atom):
        return "[" + atom[2:] if atom.startswith("[^") else "[^" + atom[1:]
    return None


def _pieces(rx: str) -> list[str]:
    """`rx` cut into top-level pieces: lookarounds, groups, classes, escapes, single characters."""
    out: list[str] = []
    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            j = i + 4 if rx.startswith("\\x", i) else i + 2
        elif c == "[":
            j = _class_end(rx, i)
        elif c == "(":
            j = _group_end(rx, i)
        else:
            j = i + 1
        out.append(rx[i:j])
        i = j
    return out


def _drop_assertions(rx: str) -> str:
    """`rx` without any lookaround or word boundary, at any depth."""
    out: list[str] = []
    for piece in _pieces(rx):
        if piece.startswith(_LOOK) or piece in ("\\b", "\\B"):
            continue
        if piece.startswith("(") and len(piece) > 2:
            head = piece[: piece.index(":") + 1] if piece.startswith("(?") and ":" in piece[:6] else piece[:1]
            if piece.startswith("(?P<"):
                head = piece[: piece.index(">") + 1]
            out.append(head + _drop_assertions(piece[len(head) : -1]) + ")")
        else:
            out.append(piece)
    return "".join(out)


def loosen(rx: str) -> str:
    """An assertion-free expression matching at least wherever `rx` matches (see the module doc)."""
    pieces = _pieces(rx)
    lead = trail = ""
    if pieces and pieces[0].startswith("(?<!"):
        neg = _negated_class(pieces[0][4:-1])
        if neg is not None:
            lead = f"(?:^|{neg}|[^\\x00-\\x7F])"
        pieces = pieces[1:]
    while pieces and pieces[-1].startswith(("(?!", "(?=")):  # trailing lookaheads: keep the last simple one
        last = pieces.pop()
        neg = _negated_class(last[3:-1]) if last.startswith("(?!") else None
        if neg is not None and not trail:
            trail = f"(?:{neg}|[^\\x00-\\x7F]|$)"
    body = _drop_assertions("".join(pieces))
    return lead + body + trail


_LONG_REPEAT = re.compile(r"(?<!\\)\{(\d+),(\d+)\}")


def unbounded(rx: str, longest: int = 32) -> str:
    """`rx` with every repeat of more than `longest` made open-ended (a wider, smaller automaton)."""
    return _LONG_REPEAT.sub(lambda m: f"{{{m.group(1)},}}" if int(m.group(2)) > longest else m.group(), rx)


_CLASS_ESCAPES = frozenset(_NEGATED_ESCAPES)
_NON_ASCII = r"[^\x00-\x7F]"


@functools.cache
def _every_non_ascii() -> str:
    """Every non-ASCII code point but the surrogates, in one string (a class searches it at C speed)."""
    return "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)


def _ascii_set(codes: list[int], wide: bool = False) -> str:
    """A class of the ASCII characters `codes` (sorted), as ranges of escaped bytes, and every
    non-ASCII character when `wide` (written as the range U+0080-U+10FFFF itself, which both
    Python's `re` and Hyperscan's UTF-8 mode read)."""
    out: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(f"\\x{codes[i]:02X}" if i == j else f"\\x{codes[i]:02X}-\\x{codes[j]:02X}")
        i = j + 1
    return "[" + "".join(out) + ("\x80-\U0010ffff" if wide else "") + "]"


@functools.cache
def _class_form(atom: str, caseless: bool) -> str:
    """`atom` (a class or class escape) as its ASCII members, or non-ASCII when it holds any."""
    rx = re.compile(atom, re.IGNORECASE if caseless else 0)
    members = [c for c in range(128) if rx.fullmatch(chr(c))]
    wide = rx.search(_every_non_ascii()) is not None
    if not members:
        return _NON_ASCII if wide else atom  # (an empty class matches nothing: left to the engine)
    if wide and caseless:  # a caseless range of non-ASCII would also take i, k and s (their folds are in it)
        return f"(?:{_ascii_set(members)}|{_NON_ASCII})"
    return _ascii_set(members, wide)


@functools.cache
def _literal_form(char: str, caseless: bool) -> str:
    """A literal character; under case-insensitive matching, non-ASCII when it or a case-fold is."""
    if not caseless or not char.isalpha():
        return char
    if not char.isascii():
        return _NON_ASCII
    if re.compile(char, re.IGNORECASE).search(_every_non_ascii()) is not None:
        return f"(?:{char}|{_NON_ASCII})"
    return char


def ascii_classes(rx: str, caseless: bool = False) -> str:
    """`rx` (assertion-free, as `loosen` returns it) with each class exact on ASCII (see the module doc).

    `caseless`: the expression is matched case-insensitively (``re.IGNORECASE``); inline
    ``(?i:...)`` groups are followed either way.
    """
    out: list[str] = []
    for piece in _pieces(rx):
        if piece.startswith("[") or piece in _CLASS_ESCAPES:
            out.append(_class_form(piece, caseless))
        elif piece.startswith("(") and len(piece) > 2:
            head = piece[: piece.index(":") + 1] if piece.startswith("(?") and ":" in piece[:6] else piece[:1]
            if piece.startswith("(?P<"):
                head = piece[: piece.index(">") + 1]
            inner = caseless or ("i" in head and head.startswith("(?") and not head.startswith("(?P"))
            out.append(head + ascii_classes(piece[len(head) : -1], inner) + ")")
        elif len(piece) == 1:
            out.append(_literal_form(piece, caseless))
        else:
            out.append(piece)
    return "".join(out)
