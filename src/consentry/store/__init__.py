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

from consentry.store.database import create_store_engine, upgrade
from consentry.store.protocol import (
    SNAPSHOT_SCHEMA,
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

__all__ = [
    "SNAPSHOT_SCHEMA",
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


def open_store(url: str) -> SqlStore:
    """Open the store at a SQLAlchemy URL, creating the SQLite file's directory and
    migrating the schema to the latest revisions (cheap when already current)."""
    engine = create_store_engine(url)
    upgrade(engine)
    return SqlStore(engine)
