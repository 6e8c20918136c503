"""Signed ledger checkpoints: evidence of the chain that does not rest on the database's own word.

A checkpoint states how many events the ledger had, the chain hash of the
last one and the Merkle root over all of them (`merkle`), at a moment, signed
with an Ed25519 key that is kept outside the store. It is written to a
directory and/or handed to a witness command (a git commit, an object store,
a timestamping client), places a database writer cannot reach. Later,
`verify_anchors` proves that the current chain extends every checkpoint and
every ledger head a build manifest recorded: the prefix of that length ends in
that hash. A truncated tail (even with the head row rewritten), a chain
recomputed after an edit, and a database rolled back to a backup all
contradict some checkpoint taken after the events they lost.

File format (`checkpoint-<events>-<taken_at>.json`, UTF-8 JSON):

    {"checkpoint": {"format": "consentry-checkpoint/1", "events": 1200,
                    "head_hash": "<64 hex>", "merkle_root": "<64 hex>",
                    "taken_at": "2025-12-01T00:00:00.000000Z"},
     "key_id": "<16 hex: SHA-256 of the raw public key>",
     "signature": "<base64 Ed25519 signature of the canonical body>"}

The canonical body is the `checkpoint` object as compact JSON with sorted keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from consentry.errors import ConsentryError, InputError
from consentry.store.merkle import Frontier
from consentry.timeutil import parse_instant, utc

__all__ = [
    "FORMAT",
    "Anchor",
    "AnchorReport",
    "AnchorWalk",
    "Checkpoint",
    "SignedCheckpoint",
    "anchors_from_checkpoints",
    "anchors_from_manifests",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "newest_checkpoint",
    "read_checkpoint",
    "read_checkpoints",
    "send_to_witness",
    "sign",
    "signature_ok",
    "write_checkpoint",
]

FORMAT = "consentry-checkpoint/1"
KEY_ENV = "CONSENTRY_CHECKPOINT_KEY"
KEY_FILE_ENV = "CONSENTRY_CHECKPOINT_KEY_FILE"
PUBLIC_KEY_FILE = "public-key.pem"


@dataclass(frozen=True)
class Checkpoint:
    """The ledger's size and head at a moment, and the Merkle root over its events."""

    events: int
    head_hash: str
    merkle_root: str
    taken_at: datetime

    def body(self) -> dict[str, Any]:
        """The signed object."""
        return {
            "format": FORMAT,
            "events": self.events,
            "head_hash": self.head_hash,
            "merkle_root": self.merkle_root,
            "taken_at": utc(self.taken_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def canonical(self) -> bytes:
        """The bytes the signature covers."""
        return json.dumps(self.body(), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signature, and the file it came from (if any)."""

    checkpoint: Checkpoint
    key_id: str
    signature: str
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON object."""
        return {"checkpoint": self.checkpoint.body(), "key_id": self.key_id, "signature": self.signature}


# ---------------------------------------------------------------------------------------------- keys


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as e:  # pragma: no cover - a core dependency
        raise ConsentryError("checkpoints need the 'cryptography' package: pip install cryptography") from e
    return ed25519


def key_id(public_key: Any) -> str:
    """A short name for a public key: the first 16 hex digits of SHA-256 over its raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> tuple[str, str]:
    """Write a new private key (PEM, mode 0600) to `path`; return (key id, public key PEM)."""
    from cryptography.hazmat.primitives import serialization

    if path.exists():
        raise InputError(f"{path}: already exists; a checkpoint key is never overwritten (choose another path)")
    key = _crypto().Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    except OSError as e:
        raise InputError(f"{path}: cannot write the key: {e.strerror}") from e
    public = key.public_key()
    return key_id(public), _public_pem(public)


def _public_pem(public: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode()


def load_private_key(environ: Mapping[str, str] | None = None) -> Any:
    """The signing key: PEM text in CONSENTRY_CHECKPOINT_KEY, or a PEM file named by CONSENTRY_CHECKPOINT_KEY_FILE."""
    from cryptography.hazmat.primitives import serialization

    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        data, where = env[KEY_ENV].encode(), KEY_ENV
    elif env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
        try:
            data, where = path.read_bytes(), str(path)
        except OSError as e:
            raise InputError(f"{path}: cannot read the checkpoint key ({KEY_FILE_ENV}): {e.strerror}") from e
    else:
        raise InputError(
            f"no checkpoint key: set {KEY_FILE_ENV} to a key file (create one with "
            f"`consentry ledger keygen --out FILE`) or {KEY_ENV} to the key's PEM text"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"{where}: not an unencrypted PEM private key") from e
    if not isinstance(key, _crypto().Ed25519PrivateKey):
        raise InputError(f"{where}: not an Ed25519 key (create one with `consentry ledger keygen`)")
    return key


def load_public_key(path: Path) -> Any:
    """An Ed25519 public key from a PEM file (or from a private key file: its public half)."""
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the public key: {e.strerror}") from e
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as e:
            raise InputError(f"{path}: not a PEM public key") from e
    if not isinstance(key, _crypto().Ed25519PublicKey):
        raise InputError(f"{path}: not an Ed25519 public key")
    return key


# ------------------------------------------------------------------------------------ signing and files


def sign(checkpoint: Checkpoint, private_key: Any) -> SignedCheckpoint:
    """Sign a checkpoint."""
    signature = base64.b64encode(private_key.sign(checkpoint.canonical())).decode()
    return SignedCheckpoint(checkpoint, key_id(private_key.public_key()), signature)


def signature_ok(signed: SignedCheckpoint, public_key: Any) -> bool:
    """Does the signature verify with `public_key`?"""
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(base64.b64decode(signed.signature, validate=True), signed.checkpoint.canonical())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def write_checkpoint(signed: SignedCheckpoint, directory: Path, public_key: Any) -> Path:
    """Write `signed` into `directory` (atomically), with the public key beside it the first time."""
    cp = signed.checkpoint
    name = f"checkpoint-{cp.events:012d}-{utc(cp.taken_at):%Y%m%dT%H%M%S%fZ}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        key_file = directory / PUBLIC_KEY_FILE
        if not key_file.exists():
            _write_atomic(key_file, _public_pem(public_key).encode())
        path = directory / name
        _write_atomic(path, (json.dumps(signed.to_dict(), indent=2, sort_keys=True) + "\n").encode())
    except OSError as e:
        raise InputError(f"{directory}: cannot write the checkpoint: {e.strerror}") from e
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def send_to_witness(signed: SignedCheckpoint, command: str) -> None:
    """Run the witness command (no shell) with the checkpoint's JSON on its standard input."""
    argv = shlex.split(command)
    if not argv:
        raise InputError("the witness command is empty")
    payload = json.dumps(signed.to_dict(), sort_keys=True).encode()
    try:
        done = subprocess.run(argv, input=payload, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ConsentryError(f"witness command {argv[0]!r} failed to run: {e}") from e
    if done.returncode != 0:
        raise ConsentryError(f"witness command {argv[0]!r} exited {done.returncode}; the checkpoint was not witnessed")


def read_checkpoints(directory: Path) -> list[SignedCheckpoint]:
    """Every checkpoint file in `directory`, in order of size; an unreadable one is an error naming it."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory of checkpoints")
    out = [read_checkpoint(p) for p in sorted(directory.glob("checkpoint-*.json"))]
    return sorted(out, key=lambda s: (s.checkpoint.events, s.source))


def read_checkpoint(path: Path) -> SignedCheckpoint:
    """One checkpoint file; an unreadable or malformed one is an InputError naming it."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        body = obj["checkpoint"]
        if body["format"] != FORMAT:
            raise ValueError(f"format {body['format']!r}, expected {FORMAT!r}")
        cp = Checkpoint(
            events=_count(body["events"]),
            head_hash=_hex64(body["head_hash"]),
            merkle_root=_hex64(body["merkle_root"]),
            taken_at=parse_instant(str(body["taken_at"])),
        )
        return SignedCheckpoint(cp, str(obj["key_id"]), str(obj["signature"]), str(path))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    except (ValueError, KeyError, TypeError, ConsentryError) as e:
        raise InputError(f"{path}: not a Consentry checkpoint ({_what(e)})") from e


def newest_checkpoint(directory: Path) -> SignedCheckpoint | None:
    """The checkpoint of the most events in `directory` (the latest taken among equals); None if it holds none."""
    found = read_checkpoints(directory)
    return max(found, key=lambda s: (s.checkpoint.events, s.checkpoint.taken_at), default=None)


def _what(e: Exception) -> str:
    return f"missing field {e}" if isinstance(e, KeyError) else str(e) or type(e).__name__


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"events must be a whole number, not {value!r}")
    return value


def _hex64(value: object) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("hashes are 64 lowercase hex digits")
    return value


# ------------------------------------------------------------------------------------------ anchors


@dataclass(frozen=True)
class Anchor:
    """Something outside the store that states a prefix of the chain: a checkpoint or a build manifest's head."""

    kind: str  # "checkpoint" | "manifest"
    source: str
    events: int
    head_hash: str
    merkle_root: str | None = None
    problem: str | None = None  # known bad before the chain is read (e.g. a signature that does not verify)


def anchors_from_checkpoints(checkpoints: Iterable[SignedCheckpoint], public_key: Any) -> list[Anchor]:
    """The checkpoints as anchors; one whose signature does not verify is an anchor with a problem."""
    out = []
    for s in checkpoints:
        cp = s.checkpoint
        problem = None if signature_ok(s, public_key) else f"signature does not verify with key {key_id(public_key)}"
        out.append(Anchor("checkpoint", s.source, cp.events, cp.head_hash, cp.merkle_root, problem))
    return out


def anchors_from_manifests(paths: Sequence[Path]) -> list[Anchor]:
    """The ledger heads recorded by build manifests: `manifest.json` files, or directories searched for them."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(p.rglob("manifest.json")))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such manifest file or directory")
    out = []
    for f in files:
        try:
            ledger = json.loads(f.read_text(encoding="utf-8"))["ledger"]
            out.append(Anchor("manifest", str(f), _count(ledger["events"]), _hex64(ledger["head_hash"])))
        except OSError as e:
            raise InputError(f"{f}: cannot read: {e.strerror}") from e
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{f}: not a build manifest with a ledger head ({_what(e)})") from e
    return out


@dataclass
class AnchorReport:
    """What `verify --checkpoints/--manifests` found."""

    ok: bool
    events: int
    anchors: int
    contradictions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints."""
        first = self.contradictions[0] if self.contradictions else None
        return {
            "ok": self.ok,
            "events": self.events,
            "anchors_checked": self.anchors,
            "first_contradiction": first,
            "contradictions": self.contradictions,
        }


class AnchorWalk:
    """Fed the chain event by event (in order), checks every anchor's prefix in one pass."""

    def __init__(self, anchors: Sequence[Anchor], *, merkle: bool = True):
        self._anchors = sorted(anchors, key=lambda a: (a.events, a.kind, a.source))
        self._wanted = {a.events for a in self._anchors if a.problem is None}
        self._seen: dict[int, tuple[str, str | None]] = {}
        self._frontier = Frontier() if merkle and any(a.merkle_root for a in self._anchors) else None
        self._n = 0
        if 0 in self._wanted:
            self._seen[0] = ("0" * 64, self._frontier.root().hex() if self._frontier else None)

    def add(self, event_id: int, chain_hash: str) -> None:
        """The next event of the chain."""
        self._n = event_id
        if self._frontier is not None:
            self._frontier.add(bytes.fromhex(chain_hash))
        if event_id in self._wanted:
            self._seen[event_id] = (chain_hash, self._frontier.root().hex() if self._frontier else None)

    def report(self, chain_ok: bool, chain_events: int) -> AnchorReport:
        """Every anchor the chain contradicts, earliest first."""
        bad = []
        for a in self._anchors:
            problem = a.problem or self._problem(a, chain_ok, chain_events)
            if problem:
                bad.append({"kind": a.kind, "source": a.source, "events": a.events, "problem": problem})
        return AnchorReport(
            ok=chain_ok and not bad, events=chain_events, anchors=len(self._anchors), contradictions=bad
        )

    def _problem(self, a: Anchor, chain_ok: bool, chain_events: int) -> str | None:
        if a.events > chain_events:
            why = "" if chain_ok else " that verify"
            return (
                f"records {a.events} events but the ledger has only {chain_events}{why}: "
                "events were removed from the end, or the database was rolled back"
            )
        chain_hash, root = self._seen[a.events]
        if chain_hash != a.head_hash:
            return (
                f"event {a.events} has hash {chain_hash[:12]}… but this {a.kind} recorded {a.head_hash[:12]}…: "
                "the chain up to it was changed and recomputed"
            )
        if a.merkle_root is not None and root is not None and root != a.merkle_root:
            return f"the Merkle root over the first {a.events} events differs from the checkpoint's"
        return None
