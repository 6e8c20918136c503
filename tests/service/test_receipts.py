"""Consent receipts: ISO/IEC TS 27560 with DPV terms, and the Kantara v1.1 layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consentry.errors import NotFoundError
from consentry.service import member_actions
from consentry.service.receipts import Controller, ReceiptFormat, build_receipt
from consentry.store import SqlStore

T = datetime(2025, 1, 15, tzinfo=UTC)


def test_iso27560_receipt_has_every_required_element(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    policy, member = svc_store.policy(), svc_store.member("us-alice")
    r = build_receipt(ReceiptFormat.ISO27560, policy, member, event, Controller(name="Acme"))
    assert r["@context"]["dpv"] == "https://w3id.org/dpv#"
    assert r["record_id"].endswith(f":event:{event.event_id}")
    assert r["data_subject"]["id"] == "us-alice"
    assert r["purpose"]["id"] == "genai_training"
    assert r["legal_basis"] == "dpv:LegitimateInterest"
    assert r["jurisdiction"]["country"] == "US"
    version = policy.version("2024-11-20")
    assert r["notice"] == {
        "@type": "dpv:PrivacyNotice",
        "policy": "social-network",
        "version": "2024-11-20",
        "sha256": version.sha256,
        "url": version.terms_url,
        "published_at": "2024-09-18T00:00:00Z",
    }
    assert r["event"]["time"] == "2025-01-15T00:00:00Z" and r["event"]["source"] == "settings"
    assert r["state"] == "dpv:ObjectionRecorded" and r["choice"] == "deny"
    assert r["controller"]["name"] == "Acme"
    assert r["evidence"]["hash"] == event.hash


def test_consent_purpose_states_are_dpv_consent_statuses(svc_store: SqlStore) -> None:
    given = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    withdrawn = member_actions.set_choice(svc_store, "us-alice", "ads_partners", False, T)
    policy, member = svc_store.policy(), svc_store.member("us-alice")
    states = [
        build_receipt(ReceiptFormat.ISO27560, policy, member, e, Controller())["state"] for e in (given, withdrawn)
    ]
    assert states == ["dpv:ConsentGiven", "dpv:ConsentWithdrawn"]
    assert build_receipt(ReceiptFormat.ISO27560, policy, member, given, Controller())["legal_basis"] == "dpv:Consent"


def test_kantara_receipt_layout(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    r = build_receipt(ReceiptFormat.KANTARA, svc_store.policy(), svc_store.member("us-alice"), event, Controller())
    assert r["version"] == "KI-CR-v1.1.0"
    assert r["jurisdiction"] == "US" and r["piiPrincipalId"] == "us-alice"
    assert r["consentTimestamp"] == int(T.timestamp())
    assert r["policyUrl"] == "https://example.org/terms/2024-11-20"
    purpose = r["services"][0]["purposes"][0]
    assert purpose["consentType"] == "EXPLICIT" and purpose["purposeCategory"] == ["ads_partners"]
    for key in ("collectionMethod", "consentReceiptID", "piiControllers", "sensitive", "spiCat", "language"):
        assert key in r


def test_receipt_for_someone_elses_event_is_refused(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    with pytest.raises(NotFoundError):
        build_receipt(ReceiptFormat.KANTARA, svc_store.policy(), svc_store.member("us-bob"), event, Controller())
