"""The languages' local rules in the scrubber: their detector factories and the per-record dispatch.

The registry builds these detectors like any other (`LOCAL_FACTORIES`); the
scrubber identifies each record's language once (`LanguageIdentifier`) and hands
every `LocalizedDetector` the profiles and phone region that language and the
member's country select (`detect_localized`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

from consentry.scrub.config import ScrubConfig
from consentry.scrub.detectors.base import Detector
from consentry.scrub.detectors.local_formats import LocalFormatDetector
from consentry.scrub.detectors.local_names import LocalNameDetector
from consentry.scrub.detectors.local_phones import LocalPhoneDetector
from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.detectors.national_ids import SCHEMES, NationalIdDetector
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.languages import LANGUAGES, load_profiles, profiles_for, region_for

__all__ = [
    "LOCAL_FACTORIES",
    "Countries",
    "LocalScan",
    "count_languages",
    "count_order",
    "detect_localized",
    "local_rules_digest",
]

#: Each text's member's country (ISO 3166 alpha-2, or None), or None when no text has one.
Countries: TypeAlias = "Sequence[str | None] | None"


def _national_ids(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    det = NationalIdDetector(cfg.entities, cfg.min_score)
    return det if det.entities else None


def _phones(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    return LocalPhoneDetector(cfg.min_score) if EntityType.PHONE in cfg.entities else None


def _formats(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    det = LocalFormatDetector(cfg.entities, cfg.min_score)
    return det if det.entities else None


def _names(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    return LocalNameDetector(cfg.min_score) if EntityType.PERSON in cfg.entities else None


#: The local rules' detector factories, registered by `consentry.scrub.registry`.
LOCAL_FACTORIES: dict[str, Callable[[ScrubConfig, Sequence[str]], Detector | None]] = {
    "national_ids": _national_ids,
    "local_phones": _phones,
    "local_formats": _formats,
    "local_names": _names,
}


class LocalScan:
    """One Hyperscan scan per text telling which local detectors may find something in it.

    Each detector's `scan_expressions` are compiled into one database (cached on disk like the
    catalogue's); a detector that declares none is asked about every text.
    """

    def __init__(self, detectors: Sequence[LocalizedDetector]) -> None:
        from consentry.scrub.detectors.structured import scan_database

        entries: list[tuple[str, int]] = []
        self._owner: list[int] = []  # expression id -> detector index
        self.detectors = tuple(detectors)
        self._count = len(detectors)
        self._always = frozenset(k for k, d in enumerate(detectors) if not d.scan_expressions())
        for k, det in enumerate(detectors):
            for entry in det.scan_expressions():
                entries.append(entry)
                self._owner.append(k)
        self._db = scan_database("hyperscan-local", entries) if entries else None

    def asked(self, texts: Sequence[str]) -> list[list[int] | None]:
        """Per detector, in order, the indices of the texts it may find something in (None: all)."""
        from consentry.scrub.detectors.structured import scan_ids

        out: list[list[int] | None] = [None if k in self._always else [] for k in range(self._count)]
        if self._db is None:
            return out
        owner = self._owner
        for i, text in enumerate(texts):
            hits = scan_ids(self._db, text)
            if hits:
                for k in {owner[h] for h in hits}:
                    out[k].append(i)  # type: ignore[union-attr]
        return out


def detect_localized(
    det: LocalizedDetector,
    texts: Sequence[str],
    languages: Sequence[str],
    countries: Countries,
    asked: Sequence[int] | None = None,
) -> dict[int, list[Finding]]:
    """`det`'s findings in each text (by index; texts without any left out), under the rules its
    language and its member's country select. `asked`: only these texts (the others hold nothing)."""
    out: dict[int, list[Finding]] = {}
    for i in range(len(texts)) if asked is None else asked:
        lang, country = languages[i], countries[i] if countries is not None else None
        profiles = profiles_for(lang, country)
        if profiles or country or det.unhinted:
            found = det.detect_local(texts[i], profiles, region_for(lang, country))
            if found:
                out[i] = found
    return out


def local_rules_digest() -> str:
    """A digest of the profiles and identifier schemes, for the scrubber's version."""
    h = hashlib.sha256()
    profiles = {c: {**vars(p), "countries": sorted(p.countries)} for c, p in load_profiles().items()}
    h.update(json.dumps(profiles, sort_keys=True).encode())  # a frozenset's repr changes order between processes
    for s in SCHEMES:
        h.update(f"{s.name}\x00{s.regex}\x00{s.score}\x00{s.context}\x00{s.anywhere}\x00{s.unhinted_words}\n".encode())
    return h.hexdigest()[:10]


def count_languages(done: Iterable[tuple[str, int]]) -> dict[str, dict[str, int]]:
    """Records and findings per language code, from (language, findings) per scrubbed record."""
    out: dict[str, dict[str, int]] = {}
    for lang, n in done:
        entry = out.setdefault(lang, {"records": 0, "detections": 0})
        entry["records"] += 1
        entry["detections"] += n
    return {k: out[k] for k in count_order(out)}


def count_order(codes: Iterable[str]) -> list[str]:
    """Language codes in the manifest's order (`LANGUAGES`, then any other alphabetically)."""
    return sorted(codes, key=_language_rank)


def _language_rank(code: str) -> tuple[int, str]:
    return (LANGUAGES.index(code), code) if code in LANGUAGES else (len(LANGUAGES), code)
