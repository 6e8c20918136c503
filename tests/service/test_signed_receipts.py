"""Signed receipts: JWS with the store's key, /.well-known/jwks.json, key rotation, `consentry receipts verify`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from consentry.cli import app as cli
from consentry.receipts.signing import jwks, read_jws, rotate_key
from consentry.receipts.verify import verify_signed_receipt
from consentry.service import member_actions
from consentry.service.receipts import Controller, ReceiptFormat
from consentry.store import SqlStore

from .conftest import CLOCK

Client = Callable[[str], TestClient]


@pytest.fixture
def verify(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[int, str, str]]:
    """Run `consentry receipts verify FILE` on a JWS text against the test store: (exit code, stdout, stderr)."""
    monkeypatch.setenv("CONSENTRY_DB", sqlite_url)

    def run(token: str) -> tuple[int, str, str]:
        path = tmp_path / "receipt.jws"
        path.write_text(token)
        r = CliRunner().invoke(cli, ["receipts", "verify", str(path)])
        return r.exit_code, r.stdout, r.stderr

    return run


def _tamper(sqlite_url: str, sql: str) -> None:
    engine = create_engine(sqlite_url, poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text(sql))
    engine.dispose()


def test_the_members_page_offers_the_signed_receipt_and_it_verifies(
    member_client: Client, svc_store: SqlStore, verify: Callable[[str], tuple[int, str, str]]
) -> None:
    alice = member_client("us-alice")
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, CLOCK)
    page = alice.get("/settings/my-data").text
    assert f'href="/v1/me/choices/{event.event_id}/signed-receipt"' in page
    r = alice.get(f"/v1/me/choices/{event.event_id}/signed-receipt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    name = f"consent-receipt-{event.event_id}-iso27560.jws.json"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    key_set = alice.get("/.well-known/jwks.json").json()
    assert [k["kty"] for k in key_set["keys"]] == ["OKP"] and "d" not in key_set["keys"][0]
    # Any JOSE library verifies it with the published key; so does `receipts verify`, in either serialization.
    body = r.json()
    published = OKPKey.import_key(key_set["keys"][0])
    token = f"{body['protected']}.{body['payload']}.{body['signature']}"
    assert jws.deserialize_compact(token, published, algorithms=["Ed25519"]).headers()["cty"] == "application/ld+json"
    signed = read_jws(r.text, key_set)
    assert signed.receipt["event"]["evidence"]["hash"] == event.hash
    code, out, _ = verify(token)
    assert code == 0, out
    code, out, _ = verify(r.text)
    assert code == 0, out
    assert json.loads(out)["checks_passed"] == ["format", "key", "signature", "evidence", "chain"]


def test_kantara_receipts_are_signed_and_verified_too(svc_store: SqlStore) -> None:
    first = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, CLOCK)
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", True, CLOCK)
    token = member_actions.signed_choice_receipt(
        svc_store, "us-alice", event.event_id, ReceiptFormat.KANTARA, Controller(), CLOCK
    )
    report = verify_signed_receipt(token, svc_store)
    assert report.ok and report.events == [event.event_id, first.event_id, event.event_id]


def test_a_changed_receipt_fails_the_signature_check(
    svc_store: SqlStore, verify: Callable[[str], tuple[int, str, str]]
) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, CLOCK)
    token = member_actions.signed_choice_receipt(
        svc_store, "us-alice", event.event_id, ReceiptFormat.ISO27560, Controller(), CLOCK
    )
    header, payload, signature = token.split(".")
    receipt = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    receipt["event"]["choice"] = "deny"
    forged = base64.urlsafe_b64encode(json.dumps(receipt).encode()).rstrip(b"=").decode()
    code, out, err = verify(f"{header}.{forged}.{signature}")
    assert code == 1
    assert json.loads(out)["failed_check"] == "signature"
    assert "signature check failed" in err and "Traceback" not in err


def test_evidence_changed_in_the_ledger_fails_the_evidence_or_chain_check(
    svc_store: SqlStore, sqlite_url: str, verify: Callable[[str], tuple[int, str, str]]
) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, CLOCK)
    token = member_actions.signed_choice_receipt(
        svc_store, "us-alice", event.event_id, ReceiptFormat.ISO27560, Controller(), CLOCK
    )
    # A field the receipt does not state, edited in the row: the row no longer hashes to its chain hash.
    _tamper(sqlite_url, f"UPDATE consent_events SET actor = 'someone' WHERE event_id = {event.event_id}")
    code, out, err = verify(token)
    assert (code, json.loads(out)["failed_check"]) == (1, "chain")
    assert "chain check failed" in err
    # The choice itself rewritten: the ledger no longer says what the receipt says.
    _tamper(sqlite_url, f"UPDATE consent_events SET choice = 'deny' WHERE event_id = {event.event_id}")
    code, out, err = verify(token)
    assert (code, json.loads(out)["failed_check"]) == (1, "evidence")
    assert f"event {event.event_id}: the receipt's choice differs from the ledger's" in err


def test_an_unknown_key_and_a_file_that_is_no_jws_are_named(
    svc_store: SqlStore, verify: Callable[[str], tuple[int, str, str]]
) -> None:
    stranger = OKPKey.generate_key("Ed25519")
    token = jws.serialize_compact({"alg": "Ed25519", "kid": "not-ours"}, b"{}", stranger, algorithms=["Ed25519"])
    code, out, _ = verify(token)
    assert (code, json.loads(out)["failed_check"]) == (1, "key")
    for junk in ("this is not a receipt", '{"protected": 1}'):
        code, out, _ = verify(junk)
        assert (code, json.loads(out)["failed_check"]) == (1, "format")


def test_rotation_keeps_old_receipts_verifying(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, CLOCK)

    def signed() -> str:
        return member_actions.signed_choice_receipt(
            svc_store, "us-alice", event.event_id, ReceiptFormat.ISO27560, Controller(), CLOCK
        )

    old = signed()
    first = jwks(svc_store.secrets)["keys"][0]["kid"]
    second = rotate_key(svc_store.secrets, CLOCK)
    new = signed()
    assert [k["kid"] for k in jwks(svc_store.secrets)["keys"]] == [second, first]
    assert read_jws(new, jwks(svc_store.secrets)).key_id == second
    assert verify_signed_receipt(old, svc_store).ok and verify_signed_receipt(new, svc_store).ok


def test_the_cli_lists_and_rotates_keys(svc_store: SqlStore, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_DB", sqlite_url)
    runner = CliRunner()
    assert json.loads(runner.invoke(cli, ["receipts", "keys"]).stdout) == {"keys": []}
    r = runner.invoke(cli, ["receipts", "rotate-key", "--at", "2025-01-15T00:00:00Z"])
    assert r.exit_code == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["keys"] == [made["current"]]
    assert [k["kid"] for k in json.loads(runner.invoke(cli, ["receipts", "keys"]).stdout)["keys"]] == made["keys"]


def test_jwks_is_empty_before_the_first_signature(member_client: Client) -> None:
    assert member_client("us-bob").get("/.well-known/jwks.json").json() == {"keys": []}
