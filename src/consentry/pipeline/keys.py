"""The keyed pseudonym that replaces member ids in build outputs.

``member_key = HMAC-SHA256(key, member_id)`` in lowercase hex. The key comes
from configuration (``CONSENTRY_PSEUDONYM_KEY``); when none is configured, one
is generated once and kept in the store, so every build of the same store uses
the same pseudonyms. The key is never written into a build's output.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

import pyarrow as pa

from consentry.config import Settings
from consentry.store.protocol import Store

__all__ = ["hmac_sql", "keyed_members", "member_key", "pseudonym_key", "resolve_key"]

_SECRET_NAME = "pseudonym_key"
_BLOCK = 64


def member_key(key: bytes, member_id: str) -> str:
    """The pseudonym of `member_id` under `key` (hex HMAC-SHA256)."""
    return hmac.new(key, member_id.encode(), hashlib.sha256).hexdigest()


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    return ipad.hex(), opad.hex()


def hmac_sql(key: bytes, column: str) -> str:
    """A DuckDB/Spark-portable SQL expression computing `member_key` of a VARCHAR column.

    HMAC spelt out with SHA-256 over the padded key blocks, so it runs
    vectorised inside the engine; `member_key` is its reference.
    """
    ipad, opad = _pads(key)
    inner = f"unhex(sha256(unhex('{ipad}') || encode({column})))"
    return f"sha256(unhex('{opad}') || {inner})"


def keyed_members(key: bytes, allowed: pa.Table) -> pa.Table:
    """member_id, member_key, records of the allowed members (columns member_id, count), by member_id.

    Keyed in DuckDB with `hmac_sql`, on all cores.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.register("a", allowed)
        table: pa.Table = con.sql(
            f'SELECT member_id, {hmac_sql(key, "member_id")} AS member_key, "count" AS records '
            "FROM a ORDER BY member_id"
        ).to_arrow_table()
    finally:
        con.close()
    return table


def resolve_key(store: Store, key: bytes | None = None, environ: Mapping[str, str] | None = None) -> bytes:
    """`key` if given, else CONSENTRY_PSEUDONYM_KEY from `environ` (default: the process's), else the store's."""
    return pseudonym_key(store, key or Settings.from_environ(environ).pseudonym_key)


def pseudonym_key(store: Store, configured: bytes | None) -> bytes:
    """The configured key, else the store's own (created on first use)."""
    if configured:
        return configured
    stored = store.secrets.get(_SECRET_NAME)
    if stored is None:
        stored = store.secrets.setdefault(_SECRET_NAME, secrets.token_hex(32))
    return bytes.fromhex(stored)
