"""The store: members, the append-only consent ledger with its hash chain, objection cases,
and published policy versions, over SQLite (default) or PostgreSQL.

    store = open_store("sqlite:///.consentry/consentry.db")
    store.publish(load_policy("policy.yaml"))
    store.import_members(Path("members.jsonl"))
    store.record(NewEvent("m1", "genai_training", Choice.DENY, at, Source.SETTINGS))
    store.snapshot("genai_training", at)        # Arrow, SNAPSHOT_SCHEMA
    store.verify()                               # VerifyReport
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consentry.store.database import Access, create_store_engine, prepare
from consentry.store.protocol import (
    ConsentEvent,
    Member,
    MemberFacts,
    NewEvent,
    ObjectionCase,
    PublishedVersion,
    PublishOutcome,
    Store,
    VerifyReport,
)
from consentry.store.sql import SqlStore

if TYPE_CHECKING:
    from consentry.store.protocol import SNAPSHOT_SCHEMA

__all__ = [
    "SNAPSHOT_SCHEMA",
    "Access",
    "ConsentEvent",
    "Member",
    "MemberFacts",
    "NewEvent",
    "ObjectionCase",
    "PublishOutcome",
    "PublishedVersion",
    "SqlStore",
    "Store",
    "VerifyReport",
    "open_store",
]


def __getattr__(name: str) -> Any:
    """`SNAPSHOT_SCHEMA`, from `consentry.store.protocol` on first use (it imports pyarrow)."""
    if name == "SNAPSHOT_SCHEMA":
        from consentry.store import protocol

        return protocol.SNAPSHOT_SCHEMA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(url: str, access: Access = Access.CREATE) -> SqlStore:
    """Open the store at a SQLAlchemy URL.

    CREATE (the default) creates it if needed (the SQLite file's directory too) and
    migrates the schema to the latest revisions (cheap when already current); WRITE
    needs an existing store and migrates it; READ needs an existing, current store and
    writes nothing. A missing store is a StoreError naming the URL (password masked).
    """
    engine = create_store_engine(url, access)
    try:
        prepare(engine, access)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)
