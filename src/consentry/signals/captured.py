"""What the signals captured with a record say about training on it: one state per kind, and the verdict.

A record of the content lake may carry ``signals``, a JSON object of what was
captured with it, and its ``url`` (docs/signals.md):

- ``headers`` — the HTTP response's fields: ``Content-Usage`` (aipref),
  ``tdm-reservation`` / ``tdm-policy`` (tdmrep), ``X-Robots-Tag`` (robots);
  names in any case, a value a string or a list of field lines;
- ``tdmrep`` — the site's ``/.well-known/tdmrep.json`` (its JSON, or its text);
- ``robots`` — the site's ``robots.txt`` text: its ``Content-Usage`` rules are
  the aipref vocabulary, so they count as aipref;
- ``c2pa`` — a C2PA manifest store (the JSON ``c2pa-python`` reads), or
  ``media`` — the path of the media file the record points at, read with
  ``c2pa-python`` (an absolute path, a ``file:`` URI, or one relative to the
  directory the build runs in).

`reservation_of` parses them (`consentry.signals.parse`, `.c2pa`) into a
`Reservation`; `verdict_of` into the compact verdict the rules read
(`consentry.rules.reservations`). Both engines compute the verdict with the
same function over Arrow arrays (`verdicts`): DuckDB as a scalar function
(`register_duckdb`), Spark as an Arrow-batched Python UDF (`spark_verdict_column`). Nothing
in it raises on bad input: what cannot be read is unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from consentry.rules.reservations import ABSENT, UNREADABLE, encode
from consentry.signals.c2pa import cawg_state, manifest_store_of_file
from consentry.signals.parse import (
    PathRule,
    aipref_state,
    combine,
    path_state,
    robots_rules,
    tdm_header_state,
    tdmrep_rules,
    tdmrep_rules_of,
    x_robots_state,
)
from consentry.vocab import SignalKind

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DUCKDB_FUNCTION",
    "Reservation",
    "register_duckdb",
    "reservation_of",
    "spark_verdict_column",
    "verdict_of",
    "verdicts",
]

#: The DuckDB scalar function the local engine's SQL calls: consentry_signals(signals, url) -> verdict
DUCKDB_FUNCTION = "consentry_signals"
#: The captured signals of one record may hold at most this many characters (longer: unreadable).
MAX_SIGNALS_CHARS = 1_000_000


@dataclass
class Reservation:
    """The state per signal kind of one record, and for each kind what was read (for people, not the rules)."""

    states: dict[SignalKind, str] = field(default_factory=lambda: dict.fromkeys(SignalKind, ABSENT))
    notes: dict[SignalKind, list[str]] = field(default_factory=lambda: {k: [] for k in SignalKind})

    def add(self, kind: SignalKind, state: str, note: str) -> None:
        """One signal of `kind` read: the most restrictive state of the kind wins."""
        self.states[kind] = combine((self.states[kind], state))
        self.notes[kind].append(f"{note}: {_WORDS[state]}")

    @property
    def verdict(self) -> str:
        """The compact verdict the rules read."""
        return encode(self.states)


_WORDS = {"y": "allowed", "n": "reserved", "-": "says nothing about training", "?": "unreadable"}


def _unreadable(note: str) -> Reservation:
    r = Reservation()
    for kind in SignalKind:
        r.add(kind, UNREADABLE, note)
    return r


def _field_values(headers: Mapping[str, Any], name: str) -> list[str] | None:
    """A header's field lines (None when a value is neither a string nor a list of strings)."""
    values: list[str] = []
    for key, value in headers.items():
        if str(key).lower() != name:
            continue
        lines = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in lines):
            return None
        values += lines
    return values


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.path.startswith("/") and parts.path:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _headers(r: Reservation, headers: object) -> None:
    if not isinstance(headers, Mapping):
        for kind in (SignalKind.AIPREF, SignalKind.TDMREP, SignalKind.ROBOTS):
            r.add(kind, UNREADABLE, "headers: not an object of header fields")
        return
    for name, kind, parse in (
        ("content-usage", SignalKind.AIPREF, aipref_state),
        ("tdm-reservation", SignalKind.TDMREP, tdm_header_state),
        ("x-robots-tag", SignalKind.ROBOTS, x_robots_state),
    ):
        values = _field_values(headers, name)
        if values is None:
            r.add(kind, UNREADABLE, f"header {name}: not a string")
        elif values:
            joined = ", ".join(values)  # several field lines are one comma-separated field (RFC 9110)
            r.add(kind, parse(joined), f"header {name}: {joined[:200]}")


def _rules(r: Reservation, kind: SignalKind, rules: tuple[PathRule, ...] | None, path: str | None, what: str) -> None:
    if rules is None:
        r.add(kind, UNREADABLE, f"{what}: cannot be read")
    elif rules and path is None:
        r.add(kind, UNREADABLE, f"{what}: has rules, but the record has no URL path to match them")
    elif rules:
        assert path is not None
        r.add(kind, path_state(rules, path, first=kind is SignalKind.TDMREP), f"{what} for {path[:200]}")


def _c2pa(r: Reservation, signals: Mapping[str, Any]) -> None:
    if "c2pa" in signals:
        store = signals["c2pa"]
        if isinstance(store, str):
            try:
                store = json.loads(store)
            except (ValueError, RecursionError):
                store = None
        r.add(SignalKind.CAWG, cawg_state(store), "C2PA manifest store (captured)")
    media = signals.get("media")
    if media is None:
        return
    if not isinstance(media, str) or not media:
        r.add(SignalKind.CAWG, UNREADABLE, "media: not a path")
        return
    r.add(SignalKind.CAWG, _media_state(media), f"C2PA manifest of {media[:200]}")


@lru_cache(maxsize=1024)
def _media_state(media: str) -> str:
    path = Path(unquote(urlsplit(media).path) if media.startswith("file:") else media)
    try:
        store = manifest_store_of_file(path)
    except (OSError, ValueError):
        return UNREADABLE
    return ABSENT if store is None else cawg_state(store)


def reservation_of(signals: object, url: str | None) -> Reservation:
    """Parse the signals captured with one record (a JSON object, already decoded) for a record at `url`."""
    if not isinstance(signals, Mapping):
        return _unreadable("signals: not a JSON object")
    r = Reservation()
    path = _path_of(url)
    if "headers" in signals:
        _headers(r, signals["headers"])
    if "tdmrep" in signals:
        tdmrep = signals["tdmrep"]
        rules = tdmrep_rules(tdmrep) if isinstance(tdmrep, str) else tdmrep_rules_of(tdmrep)
        _rules(r, SignalKind.TDMREP, rules, path, "tdmrep.json")
    if "robots" in signals:
        robots = signals["robots"]
        _rules(r, SignalKind.AIPREF, robots_rules(robots) if isinstance(robots, str) else None, path, "robots.txt")
    _c2pa(r, signals)
    return r


@lru_cache(maxsize=8192)
def _compiled(signals: str) -> tuple[str, tuple[tuple[SignalKind, tuple[PathRule, ...]], ...]]:
    """A signals text parsed once: the verdict of everything but the path rules, and those rules per kind.

    Pages of one site share their site files and often their headers: a
    build parses each distinct text once and matches only each record's path.
    """
    if len(signals) > MAX_SIGNALS_CHARS:
        return _unreadable("too long").verdict, ()
    try:
        data = json.loads(signals)
    except (ValueError, RecursionError):
        return _unreadable("signals: not JSON").verdict, ()
    if not isinstance(data, Mapping):
        return reservation_of(data, None).verdict, ()
    fixed = reservation_of({k: v for k, v in data.items() if k not in ("tdmrep", "robots")}, None)
    rules: list[tuple[SignalKind, tuple[PathRule, ...]]] = []
    for key, kind in (("tdmrep", SignalKind.TDMREP), ("robots", SignalKind.AIPREF)):
        if key not in data:
            continue
        value = data[key]
        if key == "tdmrep":
            parsed = tdmrep_rules(value) if isinstance(value, str) else tdmrep_rules_of(value)
        else:
            parsed = robots_rules(value) if isinstance(value, str) else None
        if parsed is None:
            fixed.states[kind] = combine((fixed.states[kind], UNREADABLE))
        elif parsed:
            rules.append((kind, parsed))
    return fixed.verdict, tuple(rules)


def verdict_of(signals: str | None, url: str | None) -> str | None:
    """The verdict of one record from its `signals` text and `url` (None: no signals captured).

    The same as `reservation_of(json.loads(signals), url).verdict`, parsing each distinct text once.
    """
    if signals is None or signals == "":
        return None
    verdict, rules = _compiled(signals)
    if not rules:
        return verdict
    states = dict(zip(SignalKind, verdict, strict=True))
    path = _path_of(url)
    for kind, kind_rules in rules:
        state = UNREADABLE if path is None else path_state(kind_rules, path, first=kind is SignalKind.TDMREP)
        states[kind] = combine((states[kind], state))
    return encode(states)


def verdicts(signals: pa.Array | pa.ChunkedArray, urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`verdict_of` over Arrow arrays of signals texts and URLs (strings; NULL allowed)."""
    texts, addresses = signals.to_pylist(), urls.to_pylist()
    return pa.array([verdict_of(s, u) for s, u in zip(texts, addresses, strict=True)], pa.string())


def register_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    """Make `DUCKDB_FUNCTION` (signals, url) -> verdict callable in `con`'s SQL (and its cursors')."""
    try:
        cast(Any, con).create_function(
            DUCKDB_FUNCTION, verdicts, ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow", null_handling="special"
        )
    except Exception as e:  # already registered in this database
        if "already exists" not in str(e):
            raise


def spark_verdict_column(signals: str, url: str) -> Any:
    """A Spark column: the verdict of the Spark SQL expressions `signals` and `url`, by `verdict_of` (Arrow-batched)."""
    from pyspark.sql.functions import expr, udf

    verdict = udf(verdict_of, "string", useArrow=True)
    return verdict(expr(signals), expr(url))
