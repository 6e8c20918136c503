"""The on-disk cache of compiled databases: used when sound, rebuilt when not, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry.scrub import cache
from consentry.scrub.config import Engine
from consentry.scrub.detectors.structured import PatternDetector, hyperscan_available
from consentry.scrub.entities import EntityType


def _build(calls: list[int]) -> tuple[str, bytes]:
    calls.append(1)
    return "built", b"payload"


def _load(payload: bytes) -> str:
    if payload != b"payload":
        raise ValueError("not ours")
    return "loaded"


def test_a_second_build_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_SCRUB_CACHE", str(tmp_path))
    calls: list[int] = []
    key = cache.cache_key("t", "release 1", b"expr")
    assert cache.cached_build("t", key, lambda: _build(calls), _load) == ("built", False)
    assert cache.cached_build("t", key, lambda: _build(calls), _load) == ("loaded", True)
    assert len(calls) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "empty"])
def test_a_damaged_or_foreign_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    monkeypatch.setenv("CONSENTRY_SCRUB_CACHE", str(tmp_path))
    calls: list[int] = []
    key = cache.cache_key("t", "release 1")
    cache.cached_build("t", key, lambda: _build(calls), _load)
    (path,) = tmp_path.iterdir()
    blob = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(blob[:-3])
    elif damage == "flip":
        path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    elif damage == "foreign":  # a sound file written for another key under this name
        other = cache.cache_key("t", "release 2")
        path.write_bytes(blob.replace(key, other))
    else:
        path.write_bytes(b"")
    assert cache.cached_build("t", key, lambda: _build(calls), _load) == ("built", False)
    assert len(calls) == 2
    assert cache.cached_build("t", key, lambda: _build(calls), _load) == ("loaded", True)  # rewritten sound


def test_keys_differ_with_every_input() -> None:
    k = cache.cache_key
    keys = {k("t", "1"), k("t", "2"), k("u", "1"), k("t", "1", "")}
    assert len(keys) == 4


def test_switched_off_or_unwritable_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setenv("CONSENTRY_SCRUB_CACHE", "off")
    assert cache.cached_build("t", cache.cache_key("t"), lambda: _build(calls), _load) == ("built", False)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CONSENTRY_SCRUB_CACHE", str(blocker / "sub"))
    assert cache.cached_build("t", cache.cache_key("t"), lambda: _build(calls), _load) == ("built", False)
    assert len(calls) == 2


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")
def test_cached_hyperscan_database_finds_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_SCRUB_CACHE", str(tmp_path))
    entities = frozenset({EntityType.EMAIL, EntityType.PHONE, EntityType.IP_ADDRESS})  # small: quick to compile
    first = PatternDetector(entities, Engine.HYPERSCAN)
    second = PatternDetector(entities, Engine.HYPERSCAN)
    assert first._prefilter is not None and second._prefilter is not None
    assert (first._prefilter.from_cache, second._prefilter.from_cache) == (False, True)
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)  # corrupt: checksum fails, rebuilt
    third = PatternDetector(entities, Engine.HYPERSCAN)
    assert third._prefilter is not None and not third._prefilter.from_cache
    text = "mail ada@example.org or call +44 20 7946 0958 from 192.168.10.20"
    assert first.detect(text) == second.detect(text) == third.detect(text) != []
