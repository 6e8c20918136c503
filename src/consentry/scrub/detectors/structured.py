"""Structured identifiers in one compiled pass: Hyperscan prefilter, Python `re` for exact spans.

Hyperscan (when importable) scans each text once with every pattern's loosened
form (`loosen`: exact where Hyperscan can compile it, prefilter mode where not),
reporting which patterns *may* match; only those are then run with Python's `re`
for exact spans. Without Hyperscan every pattern runs with
`re`. Both paths therefore produce the same findings (tested).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from consentry.errors import ScrubError
from consentry.scrub.cache import cache_key, cached_build
from consentry.scrub.config import Engine
from consentry.scrub.detectors.base import Detector, Pattern
from consentry.scrub.detectors.loosen import ascii_classes, loosen, unbounded
from consentry.scrub.detectors.patterns import PATTERNS, SCAN_MIN_SCORE
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding

__all__ = ["PatternDetector", "hyperscan_available", "scan_database"]


def hyperscan_available() -> bool:
    """True when the Hyperscan wheel imports on this machine."""
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


class _Prefilter:
    """A Hyperscan database answering 'which patterns may match this text?'.

    Each pattern is scanned for by its loosened form (`loosen`: lookarounds made consuming or
    dropped; `ascii_classes`: classes exact on ASCII), compiled exactly when Hyperscan can, else
    in prefilter mode; either way it matches wherever the pattern does, so a pattern it does not
    report cannot match. On ASCII text, a pattern that needs a cue word must also show one of its
    words (ids n..2n-1).
    """

    def __init__(self, patterns: Sequence[Pattern], use_scan: bool = True) -> None:
        import hyperscan

        self.n = len(patterns)
        self.word_checked = frozenset(i for i, p in enumerate(patterns) if _ascii_cue_words(p))
        parts = [f"{p.scan}\x00{p.regex}\x00{p.hint}\x00{p.flags}\x00{_ascii_cue_words(p)}" for p in patterns]
        version = f"{_EXPRESSIONS_VERSION}/scan={use_scan}"
        key = cache_key("hyperscan", _release(), getattr(hyperscan, "__version__", "?"), version, *parts)
        self._db, self.from_cache = cached_build("hyperscan", key, lambda: _compile(patterns, use_scan), _load)

    def candidates(self, text: str) -> list[int]:
        """Ids of the patterns that may match `text` (a superset of those that do), in order."""
        hits: list[int] = []
        self._db.scan(text.encode("utf-8"), match_event_handler=_collect, context=hits)
        if not hits:
            return hits
        n = self.n
        hits.sort()
        if not text.isascii():
            return [i for i in hits if i < n]
        checked = self.word_checked  # on ASCII text a pattern needing a cue word that occurs nowhere cannot match
        return [i for i in hits if i < n and (i not in checked or n + i in hits)]


#: Bumped whenever the way expressions are derived for Hyperscan changes (part of the cache key).
_EXPRESSIONS_VERSION = "ascii-6"
#: A repeat longer than this (a private key's body) makes a pattern too large to scan for by its
#: regex at all: its size hint alone is scanned for.
_HUGE_REPEAT = re.compile(r"(?<!\\)\{\d*,\d{4,}\}")


def _release() -> str:
    from consentry.scrub.scrubber import SCRUBBER_RELEASE

    return SCRUBBER_RELEASE


def _compiles(expr: bytes, flags: int) -> bool:
    import hyperscan

    try:
        hyperscan.Database().compile(expressions=[expr], ids=[0], elements=1, flags=[flags])
    except hyperscan.error:
        return False
    return True


def _forms(source: str, caseless: bool) -> list[str]:
    """`source` loosened (`loosen`), exact on ASCII (`ascii_classes`), then with long repeats open."""
    exact = ascii_classes(loosen(source), caseless)
    return list(dict.fromkeys([exact, unbounded(exact, 8)]))


def _scan_sources(p: Pattern, use_scan: bool = True) -> list[str]:
    """What `p` may be scanned for, narrowest first: its `scan` expression (when `use_scan`) or its
    regex (unless huge), then its size hint."""
    scan = p.scan if use_scan else None
    huge = scan is None and p.hint is not None and _HUGE_REPEAT.search(p.regex) is not None
    first = [] if huge else [scan or p.regex]
    return first + ([p.hint] if p.hint is not None else [])


def _scan_expression(sources: Sequence[str], flags: int) -> tuple[str, int]:
    """The first form of `sources` Hyperscan compiles exactly, else the last source in prefilter mode."""
    import hyperscan

    caseless = bool(flags & hyperscan.HS_FLAG_CASELESS)
    for source in sources:
        for form in _forms(source, caseless):
            if _compiles(form.encode("utf-8"), flags):
                return form, flags
    return sources[-1], flags | hyperscan.HS_FLAG_PREFILTER  # too large even so: Hyperscan's approximation


def _compile(patterns: Sequence[Pattern], use_scan: bool) -> tuple[Any, bytes]:
    """The database of every pattern's scan expression and every cue-word check, and its bytes."""
    import hyperscan

    hs = hyperscan
    exact = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_UTF8 | hs.HS_FLAG_UCP | hs.HS_FLAG_ALLOWEMPTY
    exprs, ids, all_flags = [], [], []
    for i, p in enumerate(patterns):
        expr, flags = _scan_expression(
            _scan_sources(p, use_scan), exact | (hs.HS_FLAG_CASELESS if p.flags & re.IGNORECASE else 0)
        )
        exprs.append(expr.encode("utf-8"))
        ids.append(i)
        all_flags.append(flags)
    for i, p in enumerate(patterns):  # id n+i: a cue word of pattern i occurs (caseless, anywhere)
        if words := _ascii_cue_words(p):
            exprs.append("|".join(re.escape(w) for w in words).encode("ascii"))
            ids.append(len(patterns) + i)
            all_flags.append(hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_CASELESS)
    db = hyperscan.Database()
    try:
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=all_flags)
    except hyperscan.error as e:  # pragma: no cover - the catalogue is tested to compile
        raise ScrubError(f"hyperscan cannot compile the pattern catalogue: {e}") from None
    return db, hyperscan.dumpb(db)


def scan_database(kind: str, expressions: Sequence[tuple[str, int]]) -> Any:
    """A Hyperscan database (cached on disk) reporting id i, once per scan, where `expressions[i]`
    (a Python `re` expression and its flags) may match: each scanned for by its loosened form,
    exact on ASCII (see `_Prefilter`). Scan it with `scan_ids`."""
    import hyperscan

    parts = [f"{rx}\x00{flags}" for rx, flags in expressions]
    key = cache_key(kind, _release(), getattr(hyperscan, "__version__", "?"), _EXPRESSIONS_VERSION, *parts)
    return cached_build(kind, key, lambda: _compile_expressions(expressions), _load)[0]


def scan_ids(db: Any, text: str) -> list[int]:
    """The ids `db` (from `scan_database`) reports in `text`."""
    hits: list[int] = []
    db.scan(text.encode("utf-8"), match_event_handler=_collect, context=hits)
    return hits


def _compile_expressions(expressions: Sequence[tuple[str, int]]) -> tuple[Any, bytes]:
    import hyperscan

    hs = hyperscan
    exact = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_UTF8 | hs.HS_FLAG_UCP | hs.HS_FLAG_ALLOWEMPTY
    exprs, all_flags = [], []
    for rx, re_flags in expressions:
        expr, flags = _scan_expression([rx], exact | (hs.HS_FLAG_CASELESS if re_flags & re.IGNORECASE else 0))
        exprs.append(expr.encode("utf-8"))
        all_flags.append(flags)
    db = hyperscan.Database()
    try:
        db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=all_flags)
    except hyperscan.error as e:  # pragma: no cover - the local rules are tested to compile
        raise ScrubError(f"hyperscan cannot compile the local rules' scan expressions: {e}") from None
    return db, hyperscan.dumpb(db)


def _load(payload: bytes) -> Any:
    """A database from its bytes, ready to scan (one that cannot scan raises, and is rebuilt)."""
    import hyperscan

    db = hyperscan.loadb(payload, hyperscan.HS_MODE_BLOCK)
    db.scratch = hyperscan.Scratch(db)
    db.scan(b"", match_event_handler=_collect, context=[])
    return db


def _ascii_cue_words(p: Pattern) -> tuple[str, ...]:
    """The supporting words of a pattern that needs one, when all are ASCII (else empty).

    On ASCII text, a caseless Hyperscan literal finds every place an ASCII word's
    `ContextRule.anywhere` regex can match (and more: no word boundaries), so a text
    without any of them cannot keep a match of the pattern.
    """
    if not p.require_context:
        return ()
    words = tuple(w for r in p.context if r.delta > 0 for w in r.words)
    return words if words and all(w.isascii() for w in words) else ()


def _collect(pid: int, _from: int, _to: int, _flags: int, hits: object) -> None:
    hits.append(pid)  # type: ignore[attr-defined]


class PatternDetector(Detector):
    """Every structured pattern of the catalogue whose entity is enabled."""

    name = "pattern"

    def __init__(self, entities: frozenset[EntityType], engine: Engine = Engine.AUTO, min_score: float = 0.5):
        self.patterns = tuple(p for p in PATTERNS if p.entity in entities)
        self.entities = frozenset(p.entity for p in self.patterns)
        self.min_score = min_score
        use_hs = engine is Engine.HYPERSCAN or (engine is Engine.AUTO and hyperscan_available())
        if engine is Engine.HYPERSCAN and not hyperscan_available():
            raise ScrubError("engine 'hyperscan' requested but not installed: pip install 'consentry[fast]'")
        #: Patterns whose context rules look only before the match: their (costly) block extension
        #: can wait until the score is known to pass, since it changes neither the score nor the start.
        self._late_extend = frozenset(
            p.name for p in self.patterns if p.extend is not None and all(r.after == 0 for r in p.context)
        )
        #: Patterns found on their own (no validator, context, extension or group): name -> the finding's
        #: score and explanation, computed once. A score under the threshold would keep no match at all.
        self._plain = {
            p.name: (max(0.0, min(1.0, p.score)), f"base {p.score:.2f}")
            for p in self.patterns
            if p.validator is None and not p.context and not p.require_context and p.extend is None and p.group is None
        }
        #: `scan` expressions hold for matches kept at SCAN_MIN_SCORE or above
        scan = min_score >= SCAN_MIN_SCORE
        self._prefilter = _Prefilter(self.patterns, scan) if use_hs and self.patterns else None
        self.engine = Engine.HYPERSCAN if self._prefilter else Engine.PYTHON

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.entities, self.engine, self.min_score))

    def detect(self, text: str) -> list[Finding]:
        """Findings of every enabled pattern that matches and validates."""
        if self._prefilter is not None:
            ids = self._prefilter.candidates(text)
            if not ids:
                return []
            pats: Sequence[Pattern] = [self.patterns[i] for i in ids]
        else:
            pats = self.patterns
        out: list[Finding] = []
        for p in pats:
            plain = self._plain.get(p.name)
            if plain is None:
                out.extend(self._run(p, text))
            elif plain[0] >= self.min_score:
                out.extend(self._run_plain(p, text, *plain))
        return out

    def _run_plain(self, p: Pattern, text: str, score: float, note: str) -> list[Finding]:
        """`_run` for a pattern whose every match is a finding of the same score."""
        out: list[Finding] = []
        strip = p.strip_trailing
        for m in p.compiled.finditer(text):
            start, end = m.span()
            if strip:
                while end > start and text[end - 1] in strip:
                    end -= 1
            if end > start:
                out.append(Finding(start, end, p.entity, score, self.name, p.name, None, note))
        return out

    def _run(self, p: Pattern, text: str) -> list[Finding]:
        out: list[Finding] = []
        if p.require_context and not any(r.delta > 0 and r.anywhere(text) for r in p.context):
            return out  # no supporting word anywhere: no match can be kept
        for m in p.compiled.finditer(text):
            start, end = m.span(p.group) if p.group else m.span()
            if p.strip_trailing:
                while end > start and text[end - 1] in p.strip_trailing:
                    end -= 1
            if end <= start:
                continue
            f = self._score(p, text, start, end)
            if f is not None:
                out.append(f)
        return out

    def _score(self, p: Pattern, text: str, start: int, end: int) -> Finding | None:
        validated = None
        verdict = None
        if p.validator is not None:
            verdict = p.validator(text[start:end])
            if not verdict.ok:
                return None  # most candidates end here: no notes written for them
            validated = True
        score, notes = p.score, [f"base {p.score:.2f}"]
        if verdict is not None:
            notes.append(verdict.note)
            if verdict.length is not None:
                end = start + verdict.length
            if verdict.score is not None:
                score = verdict.score
        late = p.name in self._late_extend
        if p.extend is not None and not late:
            end = p.extend(text, end)
        supported = False
        for rule in p.context:
            if rule.applies(text, start, end):
                score += rule.delta
                supported = supported or rule.delta > 0
                notes.append(f"context {rule.delta:+.2f}")
        if p.require_context and not supported:
            return None
        score = max(0.0, min(1.0, score))
        if score < self.min_score:
            return None
        if late and p.extend is not None:
            end = p.extend(text, end)
        return Finding(start, end, p.entity, score, self.name, p.name, validated, "; ".join(notes))


def _rebuild(entities: frozenset[EntityType], engine: Engine, min_score: float) -> PatternDetector:
    return PatternDetector(entities, engine, min_score)
