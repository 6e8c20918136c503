"""Hyperscan prefilter + re and pure re give the same findings; patterns run in linear time."""

from __future__ import annotations

import random

import pytest
from cputime import growth

from consentry.scrub import Engine, EntityType, Scrubber, ScrubConfig
from consentry.scrub.detectors.patterns import PATTERNS
from consentry.scrub.detectors.structured import PatternDetector, hyperscan_available

PIECES = [
    "ada.l@example.co.uk",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "06-82237745",
    "https://example.org/a?b=1",
    "linkedin.com/in/ada-l",
    "@ada_codes",
    "192.168.10.20",
    "fe80::1ff:fe23:4567:890a",
    "4242 4242 4242 4242",
    "DE89 3704 0044 0532 0130 00",
    "643-21-6917",
    "111.444.777-35",
    "RSSMRA85T10A562S",
    "12345678Z",
    "driver's license D1234567",
    "221B Baker Street",
    "Via Pasquale Scura 127",
    "Hauptstraße 5",
    "P.O. Box 255",
    "born on 12/03/1985",
    "AKIAIOSFODNN7EXAMPLE",
    "password: hunter22!",
    "Priya Ramaswamy",
    "10:30",
    "2024-11-20",
    "Ünïcödé Žluťoučký kůň",
    "東京都 渋谷区",
    "Москва, ул. Тверская 7",
    "مرحبا 123",
    "Apt 4B",
    "ssn 643216917",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmn",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
    "call me",
    "thanks",
    "at",
    "on",
    "!",
    ".",
    ",",
    "\n",
]


def _corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))) for _ in range(n)]


@pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed")
def test_hyperscan_and_python_paths_agree() -> None:
    entities = frozenset(EntityType)
    hs = PatternDetector(entities, Engine.HYPERSCAN)
    py = PatternDetector(entities, Engine.PYTHON)
    assert hs.engine is Engine.HYPERSCAN and py.engine is Engine.PYTHON
    for text in _corpus(1500):
        assert sorted(hs.detect(text), key=repr) == sorted(py.detect(text), key=repr), text


def test_scrubber_engines_agree_end_to_end() -> None:
    texts = _corpus(300, seed=11)
    a = Scrubber(ScrubConfig(engine=Engine.PYTHON), key=b"k").scrub_batch(texts)
    b = Scrubber(ScrubConfig(engine=Engine.AUTO), key=b"k").scrub_batch(texts)
    assert a.texts.equals(b.texts) and a.counts == b.counts


ADVERSARIAL = [
    "a" * 2000,
    "1" * 2000,
    "1 " * 1000,
    "1-" * 1000,
    "a." * 1000,
    "a@" * 1000,
    "@a" * 1000,
    ":" * 2000,
    "a:" * 1000,
    "Aa " * 700,
    "A1 " * 700,
    "1 Aa " * 400,
    "Via Aa " * 300,
    "password: " * 200,
    "https://" + "a" * 2000,
    "eyJ" + "a" * 2000,
    "-----BEGIN PRIVATE KEY-----" + "a" * 9000,  # longer than the bounded key-body window
    "DE89 " * 400,
    "Aaaa " * 500,
    "x@a." * 500,
]


@pytest.mark.parametrize("unit", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_patterns_run_in_linear_time(unit: str) -> None:
    """CPU time for 8n must stay near 8x that for n (quadratic would be 64x, cubic 512x).

    Measured in CPU seconds of this process, so other processes on the machine do not count;
    the margin (3x linear) still leaves room for cache effects, while catastrophic
    backtracking is orders of magnitude, not a factor of three."""

    def run(copies: int) -> None:
        text = unit * copies
        for p in PATTERNS:
            for _m in p.compiled.finditer(text):
                pass

    ratio = growth(run)
    assert ratio < 24, f"{ratio:.1f}x for 8x the input (linear ~8x, quadratic ~64x)"
