"""Signed checkpoints and event proofs: tampering that the chain alone cannot see, caught from outside it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from consentry.store import NewEvent, SqlStore, anchors
from consentry.store import checkpoints as cps
from consentry.store.chain import EMPTY_HASH, event_hash
from consentry.store.merkle import inclusion_proof, leaf_hash, node_hash, root_of, verify_inclusion
from consentry.vocab import Choice, Source

from .conftest import t

# ------------------------------------------------------------------------------------- the Merkle tree


def _mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962's definition, written recursively as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


@given(st.integers(min_value=0, max_value=200), st.data())
def test_merkle_tree_is_rfc6962(n: int, data: st.DataObject) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    root = _mth(leaves)
    assert root_of(leaves) == root
    if n == 0:
        return
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = inclusion_proof(leaves, m)
    assert path == _path(m, leaves)
    assert verify_inclusion(leaves[m], m, n, path, root)
    other = data.draw(st.integers(min_value=0, max_value=n - 1))
    if other != m:
        assert not verify_inclusion(leaves[m], other, n, path, root)
    assert not verify_inclusion(hashlib.sha256(b"x").digest(), m, n, path, root)


# ------------------------------------------------------------------------------------ the ledger


@pytest.fixture
def key(tmp_path: Path) -> Any:
    path = tmp_path / "keys" / "checkpoint.pem"
    path.parent.mkdir()
    cps.generate_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    return cps.load_private_key({cps.KEY_FILE_ENV: str(path)})


def _record(store: SqlStore, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        choice = Choice.DENY if i % 3 == 0 else Choice.ALLOW
        store.record(
            NewEvent("m1", "genai_training", choice, t(f"2025-01-{i % 28 + 1:02d}T00:00:00Z"), Source.SETTINGS)
        )


def _checkpoint(store: SqlStore, key: Any, directory: Path) -> Path:
    signed = anchors.take_checkpoint(store, key, t("2025-06-01T00:00:00Z"))
    return cps.write_checkpoint(signed, directory, key.public_key())


def _anchored(store: SqlStore, directory: Path, manifests: Sequence[Path] = ()) -> cps.AnchorReport:
    public = cps.load_public_key(directory / cps.PUBLIC_KEY_FILE)
    found = cps.anchors_from_checkpoints(cps.read_checkpoints(directory), public)
    return anchors.verify_against(store, found + cps.anchors_from_manifests(list(manifests)))


def _sql(url: str, *statements: str, **params: Any) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        for s in statements:
            c.execute(text(s), params)
    engine.dispose()


def _truncate_and_rewrite_head(url: str, keep: int) -> None:
    """What an attacker with database access does: drop the tail and make the head row agree."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text("DELETE FROM consent_events WHERE event_id > :k"), {"k": keep})
        (h,) = c.execute(text("SELECT hash FROM consent_events WHERE event_id = :k"), {"k": keep}).one()
        c.execute(text("UPDATE ledger_head SET events = :k, hash = :h WHERE id = 1"), {"k": keep, "h": h})
    engine.dispose()


def _forge_from(url: str, event_id: int) -> None:
    """Flip one event's choice and recompute the whole chain from it, head included: the chain verifies."""
    engine = create_engine(url, poolclass=NullPool)
    cols = (
        "event_id, member_id, purpose, choice, at_us, recorded_us, source, actor, "
        "policy_version, idempotency_key, case_id, prev_hash"
    )
    with engine.begin() as c:
        c.execute(
            text(
                "UPDATE consent_events SET choice = CASE choice WHEN 'deny' THEN 'allow' ELSE 'deny' END "
                "WHERE event_id = :e"
            ),
            {"e": event_id},
        )
        rows = c.execute(text(f"SELECT {cols} FROM consent_events ORDER BY event_id")).all()
        prev = EMPTY_HASH
        for row in rows:
            fields = tuple(row[:-1])
            if row[0] >= event_id:
                h = event_hash(prev, fields)
                c.execute(
                    text("UPDATE consent_events SET prev_hash = :p, hash = :h WHERE event_id = :e"),
                    {"p": prev, "h": h, "e": row[0]},
                )
                prev = h
            else:
                (prev,) = c.execute(text("SELECT hash FROM consent_events WHERE event_id = :e"), {"e": row[0]}).one()
        c.execute(text("UPDATE ledger_head SET hash = :h WHERE id = 1"), {"h": prev})
    engine.dispose()


def test_checkpoint_holds_for_an_untouched_ledger(ready: SqlStore, key: Any, tmp_path: Path) -> None:
    _record(ready, 5)
    first = _checkpoint(ready, key, tmp_path / "cp")
    _record(ready, 4, start=5)
    _checkpoint(ready, key, tmp_path / "cp")
    body = json.loads(first.read_text())["checkpoint"]
    assert body["events"] == 5 and body["head_hash"] == ready.event(5).hash
    report = _anchored(ready, tmp_path / "cp")
    assert report.ok and report.anchors == 2 and report.events == 9 and not report.contradictions


def test_truncation_with_the_head_rewritten_is_caught(
    ready: SqlStore, store_url: str, key: Any, tmp_path: Path
) -> None:
    _record(ready, 6)
    cp = _checkpoint(ready, key, tmp_path / "cp")
    _truncate_and_rewrite_head(store_url, keep=4)
    assert ready.verify().ok  # the chain alone cannot tell
    report = _anchored(ready, tmp_path / "cp")
    assert not report.ok
    first = report.contradictions[0]
    assert first["source"] == str(cp) and "only 4" in first["problem"]


def test_a_recomputed_forgery_is_caught(ready: SqlStore, store_url: str, key: Any, tmp_path: Path) -> None:
    _record(ready, 3)
    early = _checkpoint(ready, key, tmp_path / "cp")
    _record(ready, 4, start=3)
    late = _checkpoint(ready, key, tmp_path / "cp")
    _forge_from(store_url, 5)
    assert ready.verify().ok
    report = _anchored(ready, tmp_path / "cp")
    assert [c["source"] for c in report.contradictions] == [str(late)]
    assert "changed and recomputed" in report.contradictions[0]["problem"]
    assert str(early) not in json.dumps(report.to_dict()["contradictions"])


def test_a_build_manifest_head_is_an_anchor_too(ready: SqlStore, store_url: str, tmp_path: Path) -> None:
    _record(ready, 5)
    events, head = ready.head()
    manifest = tmp_path / "out" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps({"ledger": {"events": events, "head_hash": head}}))
    assert anchors.verify_against(ready, cps.anchors_from_manifests([tmp_path / "out"])).ok
    _truncate_and_rewrite_head(store_url, keep=3)
    report = anchors.verify_against(ready, cps.anchors_from_manifests([tmp_path / "out"]))
    assert not report.ok and report.contradictions[0] == {
        "kind": "manifest",
        "source": str(manifest),
        "events": 5,
        "problem": report.contradictions[0]["problem"],
    }


def test_a_rolled_back_sqlite_database_is_caught(
    sqlite_store: SqlStore, sqlite_url: str, reference_policy: Any, key: Any, tmp_path: Path
) -> None:
    from .conftest import MEMBERS

    sqlite_store.publish(reference_policy)
    sqlite_store.add_members(MEMBERS)
    _record(sqlite_store, 3)
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"
    with closing(sqlite3.connect(db)) as src, closing(sqlite3.connect(backup)) as dst:
        src.backup(dst)  # SQLite's online backup: the WAL's pages included
    _record(sqlite_store, 3, start=3)
    _checkpoint(sqlite_store, key, tmp_path / "cp")
    sqlite_store.close()
    for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        extra.unlink(missing_ok=True)
    db.write_bytes(backup.read_bytes())
    from consentry.store import open_store

    restored = open_store(sqlite_url)
    try:
        assert restored.verify().ok and restored.head()[0] == 3
        report = _anchored(restored, tmp_path / "cp")
        assert not report.ok and "only 3" in report.contradictions[0]["problem"]
    finally:
        restored.close()


def test_a_checkpoint_edited_after_signing_does_not_count(ready: SqlStore, key: Any, tmp_path: Path) -> None:
    _record(ready, 4)
    cp = _checkpoint(ready, key, tmp_path / "cp")
    obj = json.loads(cp.read_text())
    obj["checkpoint"]["events"] = 3
    obj["checkpoint"]["head_hash"] = ready.event(3).hash
    cp.write_text(json.dumps(obj))
    report = _anchored(ready, tmp_path / "cp")
    assert not report.ok and "signature does not verify" in report.contradictions[0]["problem"]


def test_no_checkpoint_is_signed_for_a_broken_chain(ready: SqlStore, store_url: str, key: Any) -> None:
    _record(ready, 3)
    _sql(store_url, "UPDATE consent_events SET choice = 'allow' WHERE event_id = 1")
    with pytest.raises(Exception, match="does not verify at event 1"):
        anchors.take_checkpoint(ready, key, t("2025-06-01T00:00:00Z"))


def test_an_event_proof_checks_against_the_checkpoint_alone(ready: SqlStore, key: Any, tmp_path: Path) -> None:
    _record(ready, 7)
    signed = cps.read_checkpoint(_checkpoint(ready, key, tmp_path / "cp"))
    public = key.public_key()
    for event_id in (1, 4, 7):
        proof = anchors.prove_event(ready, event_id, signed)
        assert anchors.check_event_proof(json.loads(json.dumps(proof)), signed, public)["ok"]
    proof = anchors.prove_event(ready, 4, signed)
    proof["event"]["fields"][3] = "allow" if proof["event"]["fields"][3] == "deny" else "deny"
    result = anchors.check_event_proof(proof, signed, public)
    assert not result["ok"] and "do not hash" in result["problem"]
    proof = anchors.prove_event(ready, 4, signed)
    proof["leaf_index"], proof["event"]["fields"][0] = 4, 5
    assert not anchors.check_event_proof(proof, signed, public)["ok"]
    other = tmp_path / "other.pem"
    cps.generate_key(other)
    stranger = cps.load_private_key({cps.KEY_FILE_ENV: str(other)}).public_key()
    result = anchors.check_event_proof(anchors.prove_event(ready, 4, signed), signed, stranger)
    assert not result["ok"] and "signature" in result["problem"]


def test_a_proof_is_refused_when_the_ledger_left_its_checkpoint(
    ready: SqlStore, store_url: str, key: Any, tmp_path: Path
) -> None:
    _record(ready, 5)
    signed = cps.read_checkpoint(_checkpoint(ready, key, tmp_path / "cp"))
    _forge_from(store_url, 2)
    with pytest.raises(Exception, match="no longer match the checkpoint"):
        anchors.prove_event(ready, 3, signed)


def test_unreadable_checkpoint_files_name_the_file(tmp_path: Path) -> None:
    d = tmp_path / "cp"
    d.mkdir()
    bad = d / "checkpoint-000000000001-x.json"
    bad.write_text('{"checkpoint": {"format": "consentry-checkpoint/1", "events": -1}}')
    with pytest.raises(Exception, match=str(bad)):
        cps.read_checkpoints(d)
    with pytest.raises(Exception, match="no checkpoint key"):
        cps.load_private_key({})
