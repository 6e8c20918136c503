"""`consentry signals check`: the reservation a page, a captured signals file or a media file states.

For people debugging a crawl. A URL is fetched as a crawler would capture it
(the page's response headers, the site's ``/.well-known/tdmrep.json`` and
``robots.txt``, each with a timeout; a missing file is simply not captured, a
file that cannot be fetched is unreadable) and parsed exactly as a build
parses a record's ``signals`` (`consentry.signals.captured`). A ``.json``
file is a record's captured signals; any other file is a media file whose
C2PA manifest is read.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from consentry.errors import InputError
from consentry.rules.reservations import reserved_by
from consentry.signals.captured import Reservation, reservation_of
from consentry.vocab import SignalKind

__all__ = ["Check", "check_file", "check_url"]

#: At most this much of a site file is read (robots.txt may be 500 KiB, RFC 9309).
MAX_FETCH_BYTES = 512 * 1024
_AGENT = "consentry-signals-check"
_WORDS = {"y": "allowed", "n": "reserved", "-": "nothing said", "?": "unreadable"}


@dataclass
class Check:
    """What was read, and what it says."""

    target: str
    reservation: Reservation
    fetched: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the verdict, why (the first honoured kind that reserves, every kind honoured), per kind."""
        r = self.reservation
        cause = reserved_by(r.verdict, list(SignalKind))
        return {
            "target": self.target,
            "verdict": r.verdict,
            "reserved": cause is not None,
            "reserved_by": cause,
            "signals": {k.value: {"state": _WORDS[r.states[k]], "read": r.notes[k]} for k in SignalKind},
            **({"fetched": self.fetched} if self.fetched else {}),
        }


def _fetch(url: str, timeout: float) -> tuple[int, dict[str, list[str]], bytes]:
    """Status, header field lines and (at most MAX_FETCH_BYTES of) the body of a GET; OSError when unreachable."""
    request = urllib.request.Request(url, headers={"User-Agent": _AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers: dict[str, list[str]] = {}
            for name, value in response.headers.items():
                headers.setdefault(name, []).append(value)
            return response.status, headers, response.read(MAX_FETCH_BYTES)
    except urllib.error.HTTPError as e:
        return e.code, {}, b""


def _site_file(root: str, path: str, timeout: float, fetched: dict[str, str]) -> tuple[bool, str | None]:
    """Whether the site has the file, and its text (None when it could not be fetched: unreadable)."""
    try:
        status, _, body = _fetch(root + path, timeout)
    except OSError as e:
        fetched[path] = f"could not fetch ({type(e).__name__})"
        return True, None
    fetched[path] = str(status)
    if status != 200:
        return False, None
    return True, body.decode("utf-8", "replace")


def check_url(url: str, timeout: float = 10.0) -> Check:
    """Fetch a page's headers and its site's TDMRep file and robots.txt, and parse them as a build would."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError("is not an http(s) URL or a file; give e.g. https://example.org/page", where=url)
    fetched: dict[str, str] = {}
    signals: dict[str, Any] = {}
    try:
        status, headers, _ = _fetch(url, timeout)
        fetched["page"] = str(status)
        signals["headers"] = headers
    except OSError as e:
        raise InputError(f"cannot be fetched ({type(e).__name__}); is the address right?", where=url) from None
    root = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    for key, path in (("tdmrep", "/.well-known/tdmrep.json"), ("robots", "/robots.txt")):
        present, text = _site_file(root, path, timeout, fetched)
        if present:
            signals[key] = text
    return Check(url, reservation_of(signals, url), fetched)


def check_file(path: Path, url: str | None = None) -> Check:
    """A captured signals object (`.json`; `url` places it on its site) or a media file's C2PA manifest."""
    if not path.is_file():
        raise InputError("no such file", where=str(path))
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None  # unreadable: every kind says so
        return Check(str(path), reservation_of(data, url))
    return Check(str(path), reservation_of({"media": str(path.resolve())}, url))
