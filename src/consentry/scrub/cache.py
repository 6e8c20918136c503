"""Compiled scrubber databases cached on disk, so a scrubber starts in milliseconds, not seconds.

A cache file holds one compiled artefact (a Hyperscan database) under a name derived from
everything that decides its bytes: the scrubber release, the compiled expressions and flags,
the compiler's version and the machine. Nothing in a file is trusted blindly: it carries a
magic header, its own key and a SHA-256 of its payload, and a file that fails any check (cut
short, corrupted, written for another key or machine) is rebuilt and replaced. Files are
written aside and renamed into place, so readers never see a partial file, and concurrent
writers of the same key write the same bytes.

The directory is ``$CONSENTRY_SCRUB_CACHE`` (``off`` disables the cache), else
``$XDG_CACHE_HOME/consentry/scrub``, else ``~/.cache/consentry/scrub``. An unwritable
directory only costs the compile time; it is never an error.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["cache_dir", "cache_key", "cached_build"]

T = TypeVar("T")

_MAGIC = b"CONSENTRY-SCRUB-CACHE 1\n"
_DIGEST = 32


def cache_dir() -> Path | None:
    """Where compiled databases are kept, or None when caching is switched off."""
    env = os.environ.get("CONSENTRY_SCRUB_CACHE")
    if env is not None:
        return None if env.strip().lower() in {"", "off", "0", "none"} else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "consentry" / "scrub"


def _machine() -> str:
    """The machine a compiled database is tuned for: architecture and CPU feature flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass
    return f"{platform.machine()}|{platform.system()}|{hashlib.sha256(flags.encode()).hexdigest()[:16]}"


def cache_key(kind: str, *parts: str | bytes) -> bytes:
    """A digest naming one artefact: its kind, the machine and every input that decides its bytes."""
    h = hashlib.sha256()
    for part in (kind, _machine(), *parts):
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.digest()


def _read(path: Path, key: bytes) -> bytes | None:
    """The payload of a cache file that passes every check, else None."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + len(key) + _DIGEST
    if len(blob) < head or not blob.startswith(_MAGIC) or blob[len(_MAGIC) : len(_MAGIC) + len(key)] != key:
        return None
    payload = blob[head:]
    if hashlib.sha256(payload).digest() != blob[head - _DIGEST : head]:
        return None
    return payload


def _write(path: Path, key: bytes, payload: bytes) -> None:
    """Write the file aside and rename it into place; any failure leaves no file behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + key + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def cached_build(
    kind: str, key: bytes, build: Callable[[], tuple[T, bytes]], load: Callable[[bytes], T]
) -> tuple[T, bool]:
    """The artefact named `key`: loaded from the cache, or built (and stored) when missing or bad.

    `build` returns the artefact and its serialised form; `load` turns a payload back into the
    artefact and raises on one it cannot use (then it is rebuilt). Returns the artefact and
    whether it came from the cache.
    """
    where = cache_dir()
    path = where / f"{kind}-{key.hex()[:32]}.bin" if where is not None else None
    if path is not None:
        payload = _read(path, key)
        if payload is not None:
            try:
                return load(payload), True
            except Exception:  # a file that passed the checks but does not load: rebuild it
                pass
    obj, payload = build()
    if path is not None:
        _write(path, key, payload)
    return obj, False
