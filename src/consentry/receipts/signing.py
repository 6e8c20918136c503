"""Signed receipts: a receipt as a JWS (RFC 7515, compact form) signed with an Ed25519 key the store keeps.

Keys live in the store's secrets (`Store.secrets`) as `receipt-signing-key/NNNN`,
each a private JWK (RFC 7517) whose `kid` is its RFC 7638 thumbprint. The
highest number is the current key; `rotate_key` adds the next one and never
removes an old one, so receipts signed before a rotation still verify:
`jwks` lists the public half of every key, current first (served at
`/.well-known/jwks.json`). The first signature creates the first key; two
processes doing so at once agree (the first writer wins).

`flattened` gives the same JWS in the flattened JSON serialization (RFC 7515
§7.2.2: `{"protected", "payload", "signature"}`), the form the service serves;
`read_jws` reads either form.

The JWS header is `{"alg": "Ed25519", "kid": …, "typ": "JOSE", "cty": …}`:
`application/ld+json` for ISO/IEC TS 27560 receipts, `application/json` for
Kantara ones. The payload is the receipt's JSON (UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consentry.errors import ConsentryError
from consentry.receipts.facts import ReceiptFormat
from consentry.store.protocol import Secrets
from consentry.timeutil import iso

__all__ = [
    "ALG",
    "KEY_PREFIX",
    "SignedReceipt",
    "current_key_id",
    "flattened",
    "jwks",
    "read_jws",
    "rotate_key",
    "sign_receipt",
]

ALG = "Ed25519"
KEY_PREFIX = "receipt-signing-key/"
_CTY = {ReceiptFormat.ISO27560: "application/ld+json", ReceiptFormat.KANTARA: "application/json"}


class SignatureProblem(ConsentryError):
    """A signed receipt that cannot be read or whose signature does not verify; `check` names the step."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class SignedReceipt:
    """A verified JWS: its header and the receipt it carries."""

    header: Mapping[str, Any]
    receipt: dict[str, Any]

    @property
    def key_id(self) -> str:
        return str(self.header.get("kid", ""))


def _jose() -> Any:
    try:
        import joserfc.jwk
        import joserfc.jws
    except ImportError as e:  # pragma: no cover - a dependency
        raise ConsentryError("signed receipts need the 'joserfc' package: pip install joserfc") from e
    return joserfc


def _stored(secrets: Secrets) -> list[tuple[str, dict[str, Any]]]:
    """(name, stored object) of every key, oldest first."""
    out = []
    for name in secrets.names(KEY_PREFIX):
        value = secrets.get(name)
        if value is not None:
            out.append((name, json.loads(value)))
    return out


def _new_key(now: datetime) -> str:
    okp = _jose().jwk.OKPKey.generate_key("Ed25519")
    jwk = okp.as_dict(private=True)
    jwk["kid"] = okp.thumbprint()
    return json.dumps({"jwk": jwk, "created_at": iso(now)}, sort_keys=True)


def _current(secrets: Secrets, now: datetime) -> dict[str, Any]:
    keys = _stored(secrets)
    if keys:
        return keys[-1][1]
    stored = secrets.setdefault(f"{KEY_PREFIX}0001", _new_key(now))
    obj: dict[str, Any] = json.loads(stored)
    return obj


def current_key_id(secrets: Secrets) -> str | None:
    """The kid of the key new receipts are signed with; None before the first signature."""
    keys = _stored(secrets)
    return str(keys[-1][1]["jwk"]["kid"]) if keys else None


def rotate_key(secrets: Secrets, now: datetime) -> str:
    """Add a new current key (the old ones stay listed and keep verifying); returns its kid."""
    keys = _stored(secrets)
    number = int(keys[-1][0].removeprefix(KEY_PREFIX)) + 1 if keys else 1
    stored = json.loads(secrets.setdefault(f"{KEY_PREFIX}{number:04d}", _new_key(now)))
    return str(stored["jwk"]["kid"])


def jwks(secrets: Secrets) -> dict[str, Any]:
    """The public JWK Set: every key's public half, current first."""
    keys = []
    for _, obj in reversed(_stored(secrets)):
        jwk = {k: v for k, v in obj["jwk"].items() if k != "d"}
        keys.append({**jwk, "alg": ALG, "use": "sig"})
    return {"keys": keys}


def sign_receipt(receipt: Mapping[str, Any], fmt: ReceiptFormat, secrets: Secrets, now: datetime) -> str:
    """The receipt as a compact JWS signed with the current key (made on first use)."""
    jose = _jose()
    jwk = _current(secrets, now)["jwk"]
    key = jose.jwk.OKPKey.import_key(jwk)
    header = {"alg": ALG, "kid": jwk["kid"], "typ": "JOSE", "cty": _CTY[fmt]}
    payload = json.dumps(receipt, ensure_ascii=False, sort_keys=True).encode()
    token: str = jose.jws.serialize_compact(header, payload, key, algorithms=[ALG])
    return token


def flattened(token: str) -> dict[str, str]:
    """A compact JWS in the flattened JSON serialization."""
    protected, payload, signature = token.split(".")
    return {"protected": protected, "payload": payload, "signature": signature}


def _compact(text: str) -> str:
    """The compact form of a JWS given in either serialization."""
    text = text.strip()
    if not text.startswith("{"):
        return text
    try:
        obj = json.loads(text)
        parts = [obj["protected"], obj["payload"], obj["signature"]]
    except (ValueError, KeyError, TypeError):
        raise SignatureProblem("format", "JSON, but not a flattened JWS (protected, payload, signature)") from None
    if not all(isinstance(p, str) for p in parts):
        raise SignatureProblem("format", "a flattened JWS whose parts are not strings")
    return ".".join(parts)


def read_jws(text: str, key_set: Mapping[str, Any]) -> SignedReceipt:
    """Verify a JWS (compact or flattened JSON) against a JWK Set and return its receipt.

    SignatureProblem names the failed check (`format`, `key`, `signature`).
    """
    jose = _jose()
    from joserfc.errors import JoseError

    token = _compact(text)
    try:
        header = jose.jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError) as e:
        raise SignatureProblem("format", f"not a compact JWS ({e})") from None
    if header.get("alg") != ALG:
        raise SignatureProblem("format", f"signed with alg {header.get('alg')!r}; receipts are signed with {ALG}")
    kid = header.get("kid")
    matching = [k for k in key_set.get("keys", []) if k.get("kid") == kid]
    if not matching:
        raise SignatureProblem("key", f"signed with key {kid!r}, which the store does not have")
    key = jose.jwk.OKPKey.import_key(matching[0])
    try:
        verified = jose.jws.deserialize_compact(token, key, algorithms=[ALG])
    except (JoseError, ValueError):
        raise SignatureProblem("signature", f"the signature does not verify with key {kid}") from None
    try:
        receipt = json.loads(verified.payload)
    except ValueError as e:
        raise SignatureProblem("format", f"the signed payload is not JSON ({e})") from None
    if not isinstance(receipt, dict):
        raise SignatureProblem("format", "the signed payload is not a receipt object")
    return SignedReceipt(header, receipt)
