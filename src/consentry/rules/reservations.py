"""Rights holders' signals as the rules see them: one compact verdict per record.

Parsing the captured signals (headers, TDMRep files, robots.txt rules, C2PA
manifests) is the signals layer's work (`consentry.signals.captured`); it
hands the rules one short string per record, the *verdict*: one character per
signal kind, in `SignalKind`'s order (aipref, tdmrep, robots, cawg):

- ``-`` — no signal of that kind was captured (or it says nothing about training);
- ``y`` — the signals of that kind allow the use;
- ``n`` — they reserve the record (the most restrictive one wins);
- ``?`` — one could not be read: the record is excluded (fail closed).

A record without captured signals has no verdict (NULL). A purpose honours
some kinds (`PurposeRule.honoured_signals`); the record is reserved when any
honoured kind is ``n`` or ``?``. For counting, the cause is the first honoured
kind that reserves it, else `UNREADABLE` when only an unreadable one does.
Row-wise and SQL (both dialects) read the same characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from consentry.vocab import SignalKind

__all__ = [
    "ABSENT",
    "ALLOWS",
    "CAUSES",
    "RESERVES",
    "UNREADABLE",
    "UNREADABLE_CAUSE",
    "cause_sql",
    "encode",
    "reserved_by",
    "reserved_sql",
]

ABSENT, ALLOWS, RESERVES, UNREADABLE = "-", "y", "n", "?"
#: The cause counted for a record excluded only by signals that could not be read.
UNREADABLE_CAUSE = "unreadable"
#: Every cause a reserved record is counted under, in order.
CAUSES: tuple[str, ...] = (*(k.value for k in SignalKind), UNREADABLE_CAUSE)
_POSITION = {k: i for i, k in enumerate(SignalKind)}


def encode(states: Mapping[SignalKind, str]) -> str:
    """The verdict of one record from its state per kind (a kind left out is ABSENT)."""
    return "".join(states.get(k, ABSENT) for k in SignalKind)


def _at(verdict: str, kind: SignalKind) -> str:
    i = _POSITION[kind]
    return verdict[i : i + 1]


def reserved_by(verdict: str | None, honoured: Sequence[SignalKind]) -> str | None:
    """Why a record is reserved for a purpose honouring `honoured` (a kind, or UNREADABLE_CAUSE); None: it is not."""
    if verdict is None:
        return None
    for kind in honoured:
        if _at(verdict, kind) == RESERVES:
            return kind.value
    if any(_at(verdict, kind) == UNREADABLE for kind in honoured):
        return UNREADABLE_CAUSE
    return None


def _char_sql(column: str, kind: SignalKind) -> str:
    return f"substr({column}, {_POSITION[kind] + 1}, 1)"


def reserved_sql(column: str, honoured: Sequence[SignalKind]) -> str:
    """True when the verdict in `column` reserves the record (never NULL; the same text in DuckDB and Spark SQL)."""
    if not honoured:
        return "FALSE"
    tests = " OR ".join(f"{_char_sql(column, k)} IN ('{RESERVES}', '{UNREADABLE}')" for k in honoured)
    return f"coalesce({tests}, FALSE)"


def cause_sql(column: str, honoured: Sequence[SignalKind], cause: str) -> str:
    """True when `cause` is the first cause (see `reserved_by`) of the verdict in `column`, among reserved records."""
    if cause == UNREADABLE_CAUSE:
        tests = [f"{_char_sql(column, k)} = '{UNREADABLE}'" for k in honoured]
    else:
        kind = SignalKind(cause)
        tests = [f"{_char_sql(column, kind)} = '{RESERVES}'"] if kind in honoured else []
    return f"coalesce({' OR '.join(tests)}, FALSE)" if tests else "FALSE"
