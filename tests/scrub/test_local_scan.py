"""The local rules' scan: a local detector is skipped only on texts where it cannot find anything."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from consentry.scrub import Engine, EntityType, Scrubber, ScrubConfig
from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.detectors.structured import _forms, hyperscan_available
from consentry.scrub.languages import load_profiles
from consentry.scrub.local_rules import LOCAL_FACTORIES, LocalScan

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.corpora.multilingual import LANGUAGES, MultilingualCorpus

CFG = ScrubConfig(entities=frozenset(EntityType), min_score=0.0)
DETECTORS = [d for f in LOCAL_FACTORIES.values() if isinstance(d := f(CFG, ()), LocalizedDetector)]
EXTRA = [
    "Tel. 030 12345678 / +49 (0)30 1234567 x12",
    "CPF 111.444.777-35, BSN 1112.22.333, Aadhaar 2345 6789 0123, PAN ABCPE1234F",
    "geboren am 03.04.1985 in 10115 Berlin, né le 3 mars 1985",
    "Via Roma 3, 00184 Roma RM; Kerkstraat 5, 1017 GC Amsterdam; 12, MG Road, Bengaluru 560001",
    "8f14e45fceea167a5a36dedd4bea2543 123456789 c4ca4238a0b9 2024-11-20",
]


@pytest.fixture(scope="module")
def texts() -> list[tuple[str, str]]:
    corpus = MultilingualCorpus(seed=11).generate(25)
    return [(s.text, LANGUAGES[s.lang][1]) for s in corpus] + [(t, c) for t in EXTRA for c in ("DE", "IN", "BR")]


def test_a_text_with_local_findings_holds_one_of_the_detectors_scan_expressions(texts: list[tuple[str, str]]) -> None:
    profiles = list(load_profiles().values())
    found_any = set()
    for det in DETECTORS:
        forms = [re.compile(f, flags) for rx, flags in det.scan_expressions() for f in _forms(rx, bool(flags & re.I))]
        if not forms:
            continue
        for text, country in texts:
            for chosen, region in [(profiles, None), ([], None), *(([p], country) for p in profiles)]:
                if det.detect_local(text, chosen, region):
                    found_any.add(det.name)
                    assert any(f.search(text) for f in forms), (det.name, text)
    assert {"national_ids", "local_phone", "local_formats"} <= found_any


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")
def test_scrubbers_with_and_without_the_scan_find_the_same(texts: list[tuple[str, str]]) -> None:
    plain, countries = [t for t, _ in texts], [c for _, c in texts]
    scanned = Scrubber(ScrubConfig(), key=b"k")
    every = Scrubber(ScrubConfig(engine=Engine.PYTHON), key=b"k")
    assert scanned._scan_locally and not every._scan_locally
    assert scanned.detect_batch(plain, countries) == every.detect_batch(plain, countries)
    local = [d for d in scanned.detectors if isinstance(d, LocalizedDetector)]
    asked = LocalScan(local).asked(["nothing local here", *EXTRA])
    assert all(a is None or 0 not in a for a in asked)  # a text without digits or capitals asks none that scan
