"""The scrubber: detectors + operators over batches of text, in one process or a pool."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pyarrow as pa

from consentry.scrub.config import Engine, ScrubConfig
from consentry.scrub.detectors.lexicon import load_lexicon
from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.detectors.patterns import PATTERNS
from consentry.scrub.detectors.structured import hyperscan_available
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding, resolve_overlaps
from consentry.scrub.languages import UNDETERMINED, LanguageIdentifier
from consentry.scrub.local_rules import (
    LOCAL_FACTORIES,
    Countries,
    LocalScan,
    count_languages,
    detect_localized,
    local_rules_digest,
)
from consentry.scrub.operators import build_operators
from consentry.scrub.registry import build_detectors
from consentry.workers import worker_initializer

__all__ = ["SCRUBBER_RELEASE", "ScrubResult", "Scrubber", "TextsLike", "detection_view", "scrub_parallel"]

#: Bumped when findings change in ways the version's digest cannot see (detector logic, language identification)
SCRUBBER_RELEASE = "1.2"
TextsLike: TypeAlias = "pa.Array | pa.ChunkedArray | Sequence[str | bytes | None]"


_ESCAPE = re.compile(r"\\(?:[nrt]|(?=[^\w\s]))")
_ESCAPE_AS = {"\\n": " \n", "\\r": " \r", "\\t": " \t"}


def detection_view(text: str) -> str:
    """`text` as detectors see it: escaped line breaks (a literal backslash-n, common in text
    scraped from JSON or CSV) read as line breaks, a backslash before punctuation as a space.
    Same length, so offsets into the view are offsets into `text`."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPE_AS.get(m.group(), " "), text)


@dataclass(frozen=True)
class ScrubResult:
    """One scrubbed batch: texts (null where failed or null in input), failures, counts per entity."""

    texts: pa.StringArray
    failed: pa.BooleanArray
    counts: dict[EntityType, int]
    #: per language code, records scrubbed and findings in them: {"de": {"records": 3, "detections": 5}}
    languages: dict[str, dict[str, int]] = field(default_factory=dict)


class Scrubber:
    """Finds personal data and rewrites it with the configured operator per entity.

    Picklable: it travels to pool workers as ``(cfg, key, names)`` and is rebuilt there.
    `key` keys the hash and surrogate operators (a random key when omitted); `names` is
    the member directory matched exactly.
    """

    def __init__(self, cfg: ScrubConfig | None = None, key: bytes | None = None, names: Sequence[str] = ()):
        self.cfg = cfg or ScrubConfig.default()
        self.key = key if key is not None else os.urandom(32)
        self.names = tuple(names)
        self.detectors = build_detectors(self.cfg, self.names)
        self._operators = build_operators(self.key, self.cfg.mask_char)
        self._languages = LanguageIdentifier()
        #: local detectors are asked only about texts their scan expressions occur in (Hyperscan)
        self._scan_locally = self.cfg.engine is not Engine.PYTHON and hyperscan_available()
        self._local: LocalScan | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (Scrubber, (self.cfg, self.key, self.names))

    @property
    def version(self) -> str:
        """Release plus a digest of the pattern catalogue and lexicons, for the manifest."""
        lex = load_lexicon()
        h = hashlib.sha256()
        for p in PATTERNS:
            h.update(f"{p.name}\x00{p.regex}\x00{p.score}\n".encode())
        h.update(f"{len(lex.given)}/{len(lex.family)}/{len(lex.common)}/{len(lex.surname_lookalikes)}".encode())
        h.update(f"/{len(lex.nouns)}".encode())
        h.update(f"local:{','.join(LOCAL_FACTORIES)}:{local_rules_digest()}".encode())
        return f"{SCRUBBER_RELEASE}+{h.hexdigest()[:10]}"

    def detect(self, text: str, country: str | None = None) -> list[Finding]:
        """Non-overlapping findings in `text`, in order, of the enabled entities.

        `country` (the member's, ISO 3166 alpha-2) is the region hint of the local rules."""
        return self.detect_batch([text], None if country is None else [country])[0]

    def detect_batch(self, texts: Sequence[str], countries: Countries = None) -> list[list[Finding]]:
        """`detect` for a batch (batch-aware detectors such as spaCy run once over it)."""
        return self.detect_languages(texts, countries)[0]

    def detect_languages(
        self, texts: Sequence[str], countries: Countries = None
    ) -> tuple[list[list[Finding]], list[str]]:
        """`detect_batch`, and the language code each text was read in (`consentry.scrub.languages`).

        Per-text work is paid where a detector found something: texts without findings
        share no list building, filtering or overlap resolution.
        """
        views = [detection_view(t) for t in texts]
        languages = self._languages.identify_batch(views, countries)
        per_text: list[list[Finding]] | None = None
        local = [d for d in self.detectors if isinstance(d, LocalizedDetector)]
        asked = self._local_scan(local).asked(views) if local and self._scan_locally else [None] * len(local)
        for det in self.detectors:
            if isinstance(det, LocalizedDetector):  # its rules: the language's and the member's country's
                if per_text is None:
                    per_text = [[] for _ in texts]
                for i, fs in detect_localized(det, views, languages, countries, asked[local.index(det)]).items():
                    per_text[i].extend(fs)
                continue
            found = det.detect_batch(views)
            if per_text is None:
                per_text = [list(fs) for fs in found]
            else:
                for i, fs in enumerate(found):
                    if fs:
                        per_text[i].extend(fs)
        if per_text is None:
            return [[] for _ in texts], languages
        enabled = self.cfg.entities
        every = len(enabled) == len(EntityType)
        return [
            fs if not fs or (every and len(fs) == 1) else resolve_overlaps([f for f in fs if f.entity in enabled])
            for fs in per_text
        ], languages

    def _local_scan(self, local: list[LocalizedDetector]) -> LocalScan:
        """The scan of the local detectors in use (rebuilt when they were swapped)."""
        if self._local is None or self._local.detectors != tuple(local):
            self._local = LocalScan(local)
        return self._local

    def apply(self, text: str, findings: Sequence[Finding]) -> str:
        """`text` with every finding rewritten by its entity's operator."""
        if not findings:
            return text
        parts: list[str] = []
        pos = 0
        for f in findings:
            op = self._operators[self.cfg.operator_for(f.entity)]
            parts.append(text[pos : f.start])
            parts.append(op.apply(text[f.start : f.end], f.entity))
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)

    def scrub_text(self, text: str) -> str:
        """One text, scrubbed (raises on input that cannot be scrubbed)."""
        return self.apply(text, self.detect(text))

    def scrub_batch(self, texts: TextsLike, countries: Countries = None) -> ScrubResult:
        """Scrub a batch; a text that cannot be scrubbed comes back null with failed=True.

        `countries`, when given, holds each text's member's country (the local rules' region hint)."""
        values = texts.to_pylist() if isinstance(texts, pa.Array | pa.ChunkedArray) else list(texts)
        out, failed, counts, languages = self._scrub(values, countries)
        texts_out, failed_out = pa.array(out, type=pa.string()), pa.array(failed, type=pa.bool_())
        return ScrubResult(texts_out, failed_out, counts, languages)

    def scrub_values(self, values: Sequence[object]) -> tuple[list[str | None], list[bool], dict[EntityType, int]]:
        """`scrub_batch` on plain Python values: scrubbed texts (None where failed or None in
        input), failure flags and counts per entity."""
        return self._scrub(values, None)[:3]

    def _scrub(
        self, values: Sequence[object], countries: Countries
    ) -> tuple[list[str | None], list[bool], dict[EntityType, int], dict[str, dict[str, int]]]:
        out: list[str | None] = [None] * len(values)
        failed = [False] * len(values)
        good: list[int] = []
        clean: list[str] = []
        for i, v in enumerate(values):
            if v is None:
                continue
            text = self._readable(v)
            if text is None:
                failed[i] = True
            else:
                good.append(i)
                clean.append(text)
        counts: Counter[EntityType] = Counter()
        hints = None if countries is None else [countries[i] for i in good]
        detected, languages = self._detect_safely(clean, hints)
        done: list[tuple[str, int]] = []
        for i, text, findings, lang in zip(good, clean, detected, languages, strict=True):
            if findings is None:
                failed[i] = True
                continue
            if not findings:
                out[i] = text
                done.append((lang, 0))
                continue
            try:
                out[i] = self.apply(text, findings)
            except Exception:  # an operator bug must not leak the text: exclude it
                failed[i] = True
                continue
            counts.update(f.entity for f in findings)
            done.append((lang, len(findings)))
        return out, failed, dict(counts), count_languages(done)

    def _readable(self, value: object) -> str | None:
        """The text as valid Unicode within the size limit, or None when it cannot be scrubbed."""
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        if not isinstance(value, str) or len(value) > self.cfg.max_text_chars:
            return None
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            return None
        return value

    def _detect_safely(self, texts: list[str], countries: Countries) -> tuple[list[list[Finding] | None], list[str]]:
        try:
            found, languages = self.detect_languages(texts, countries)
            return list(found), languages
        except Exception:  # isolate the text that breaks a detector; the others proceed
            results: list[list[Finding] | None] = []
            langs: list[str] = []
            for j, t in enumerate(texts):
                try:
                    one, lang = self.detect_languages([t], None if countries is None else [countries[j]])
                    results.append(one[0])
                    langs.append(lang[0])
                except Exception:
                    results.append(None)
                    langs.append(UNDETERMINED)
            return results, langs


_WORKER: Scrubber | None = None


def _init_worker(cfg: ScrubConfig, key: bytes, names: Sequence[str]) -> None:
    global _WORKER
    _WORKER = Scrubber(cfg, key, names)


def _scrub_in_worker(batch: TextsLike) -> ScrubResult:
    assert _WORKER is not None
    return _WORKER.scrub_batch(batch)


def scrub_parallel(
    factory_args: tuple[ScrubConfig, bytes, Sequence[str]],
    batches: Iterable[TextsLike],
    workers: int | None = None,
) -> Iterator[ScrubResult]:
    """Scrub batches over a process pool (one Scrubber built per worker), results in input order."""
    workers = workers or os.cpu_count() or 1
    cfg, key, names = factory_args
    if workers == 1:
        scrubber = Scrubber(cfg, key, names)
        for b in batches:
            yield scrubber.scrub_batch(b)
        return
    initializer, initargs = worker_initializer(_init_worker, cfg, key, tuple(names))  # workers die with this process
    with ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs) as pool:
        yield from pool.map(_scrub_in_worker, batches, chunksize=1)
