"""Consent receipts: ISO/IEC TS 27560 with DPV terms, and the Kantara v1.1 layout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consentry.errors import NotFoundError, PolicyValidationError
from consentry.policy import Policy, PolicyDocument, load_policy_text
from consentry.receipts.facts import purpose_history
from consentry.service import member_actions
from consentry.service.receipts import Controller, ReceiptFormat, build_receipt
from consentry.store import SqlStore
from consentry.store.protocol import NewEvent
from consentry.vocab import Choice, Source

T = datetime(2025, 1, 15, tzinfo=UTC)
ISO = ReceiptFormat.ISO27560


def test_iso27560_receipt_has_every_required_element(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    policy, member = svc_store.policy(), svc_store.member("us-alice")
    r = build_receipt(ISO, policy, member, event, Controller(name="Acme"), created=T + timedelta(days=1))
    assert r["@context"]["dpv"] == "https://w3id.org/dpv#"
    assert r["@type"] == ["dpv:ConsentRecord", "dpv:ConsentReceipt"]
    assert r["schema_version"] == "https://w3id.org/dpv/schema/dpv-27560#receipt-record"
    assert r["record_id"].endswith(f":event:{event.event_id}")
    assert r["created"] == "2025-01-16T00:00:00Z"
    assert r["data_subject"] == {"@type": "dpv:DataSubject", "id": "us-alice"}
    assert r["purpose"]["id"] == "genai_training" and r["purpose"]["category"] == "dpv:ResearchAndDevelopment"
    assert r["legal_basis"] == "dpv:LegitimateInterest"
    assert r["jurisdiction"] == {"@id": "loc:US", "@type": "dpv:Country"}
    version = policy.version("2024-11-20")
    assert r["notice"] == {
        "@type": "dpv:PrivacyNotice",
        "policy": "social-network",
        "version": "2024-11-20",
        "sha256": version.sha256,
        "url": version.terms_url,
        "published_at": "2024-09-18T00:00:00Z",
        "language": "en",
    }
    e = r["event"]
    assert e["time"] == "2025-01-15T00:00:00Z" and e["source"] == "settings" and e["choice"] == "deny"
    assert e["@type"] == ["dpv:LegitimateInterestObjected"] and e["event_type"] == "explicit"
    assert e["indicated_by"] == "dpv:DataSubject"
    assert e["evidence"]["hash"] == event.hash and e["evidence"]["ledger_event_id"] == event.event_id
    assert r["controller"]["name"] == "Acme"
    assert r["objection"]["@type"] == "dpv:ObjectingToProcess" and "withdrawal" not in r
    assert r["authority"]["name"] == "Federal Trade Commission"


def test_27560_fields_come_from_the_policy_block(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    r = build_receipt(ISO, svc_store.policy(), svc_store.member("us-alice"), event, Controller())
    assert r["personal_data"] == [
        {"@type": "dpv:PersonalData", "category": "pd:Profile", "label": "public profile: headline, industry, location"}
    ]
    assert r["operations"] == ["dpv:Store", "dpv:Share"]
    assert r["storage"] == [
        {"@type": "dpv:StorageLocation", "location": ["loc:US", "loc:IE"]},
        {"@type": "dpv:StorageDuration", "duration": {"@type": "dpv:TemporalDuration", "value": "P6M"}},
    ]
    assert r["processing_conditions"] == [{"@type": "dpv:ProcessingLocation", "location": ["loc:US"]}]
    assert [x["@type"] for x in r["recipients"]] == [
        ["dpv:Recipient", "dpv:DataController"],
        ["dpv:Recipient", "dpv:ThirdParty"],
    ]
    assert r["withdrawal"]["exercised_at"] == "https://example.org/settings/data-privacy"
    assert "Right to withdraw consent" in [x["label"] for x in r["rights"]]
    assert r["event"]["validity"] == {
        "@type": "dpv:UntilEventDuration",
        "value": "until the member changes this choice",
    }


def _without_block(policy: Policy) -> Policy:
    specs = [v.spec.model_copy(update={"receipts": None}) for v in policy.versions]
    return Policy.from_document(PolicyDocument(policy=policy.name, versions=specs), policy.groups)


def test_a_version_without_the_block_keeps_its_hash_and_gets_the_defaults(svc_store: SqlStore) -> None:
    full = svc_store.policy()
    policy = _without_block(full)
    # Absent, the block is not in the hashed canonical form: versions published before it keep their hash.
    assert "receipts" in json.loads(full.versions[0].canonical_json)
    assert "receipts" not in json.loads(policy.versions[0].canonical_json)
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    r = build_receipt(ISO, policy, svc_store.member("us-alice"), event, Controller(url="https://acme.example/p"))
    assert r["notice"]["language"] == "en"
    assert r["personal_data"][0]["category"] == "pd:SocialMedia"
    assert r["operations"] == ["dpv:Store", "dpv:Use"]
    assert r["recipients"] == [{"@type": ["dpv:Recipient", "dpv:DataController"], "name": "Example Social Network"}]
    assert r["objection"]["exercised_at"] == "https://acme.example/p"
    assert "authority" not in r and "processing_conditions" not in r
    assert "Right to withdraw consent" not in [x["label"] for x in r["rights"]]


def test_the_block_is_checked_when_the_policy_loads(reference_policy_path: Path) -> None:
    text = reference_policy_path.read_text()
    bad = text.replace("operations: [Store, Share]", "operations: [Store, Sell]", 1)
    with pytest.raises(PolicyValidationError, match=r"receipts\.purposes\.ads_partners\.operations.*'Sell'"):
        load_policy_text(bad)
    bad = text.replace("storage_locations: [US, IE]", "storage_locations: [US, XX]", 1)
    with pytest.raises(PolicyValidationError, match=r"storage_locations\[1\].*'XX'"):
        load_policy_text(bad)


def test_consent_purpose_states_are_dpv_consent_statuses(svc_store: SqlStore) -> None:
    refused = member_actions.set_choice(svc_store, "us-bob", "ads_partners", False, T)
    given = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    withdrawn = member_actions.set_choice(svc_store, "us-alice", "ads_partners", False, T)
    policy = svc_store.policy()

    def state(member: str, e):  # type: ignore[no-untyped-def]
        history = purpose_history(svc_store.events(member_id=member), e)
        r = build_receipt(ISO, policy, svc_store.member(member), e, Controller(), history=history)
        return r["event"]["@type"], r["legal_basis"]

    assert state("us-alice", given) == (["dpv:ConsentGiven", "dpv:ExpressedConsent"], "dpv:Consent")
    assert state("us-alice", withdrawn) == (["dpv:ConsentWithdrawn"], "dpv:Consent")
    assert state("us-bob", refused) == (["dpv:ConsentRefused"], "dpv:Consent")


def test_a_receipt_carries_the_members_history_for_the_purpose(svc_store: SqlStore) -> None:
    first = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    second = member_actions.set_choice(svc_store, "us-alice", "ads_partners", False, T + timedelta(hours=1))
    later = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T + timedelta(hours=2))
    r = member_actions.choice_receipt(svc_store, "us-alice", second.event_id, ISO, Controller())
    ids = [h["evidence"]["ledger_event_id"] for h in r["history"]]
    assert ids == [first.event_id, second.event_id] and later.event_id not in ids
    assert [h["choice"] for h in r["history"]] == ["allow", "deny"]
    k = member_actions.choice_receipt(svc_store, "us-alice", second.event_id, ReceiptFormat.KANTARA, Controller())
    assert [h["ledgerEventHash"] for h in k["history"]] == [first.hash, second.hash]


def test_gpc_and_imports_are_implicit_events(svc_store: SqlStore) -> None:
    gpc = member_actions.honour_gpc(svc_store, "us-alice", T)[0]
    imported = svc_store.record(NewEvent("us-bob", "ads_partners", Choice.ALLOW, T, Source.IMPORT, actor="import"))
    policy = svc_store.policy()
    g = build_receipt(ISO, policy, svc_store.member("us-alice"), gpc, Controller())
    i = build_receipt(ISO, policy, svc_store.member("us-bob"), imported, Controller())
    assert g["event"]["event_type"] == "implicit" and g["event"]["indicated_by"] == "dpv:DataSubject"
    assert i["event"]["@type"] == ["dpv:ConsentGiven", "dpv:ImpliedConsent"]
    assert i["event"]["indicated_by"] == "dpv:DataController"
    k = build_receipt(ReceiptFormat.KANTARA, policy, svc_store.member("us-bob"), imported, Controller())
    assert k["services"][0]["purposes"][0]["consentType"] == "IMPLIED"


def test_kantara_receipt_layout(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    r = build_receipt(ReceiptFormat.KANTARA, svc_store.policy(), svc_store.member("us-alice"), event, Controller())
    assert r["version"] == "KI-CR-v1.1.0"
    assert r["jurisdiction"] == "US" and r["piiPrincipalId"] == "us-alice"
    assert r["consentTimestamp"] == int(T.timestamp())
    assert r["policyUrl"] == "https://example.org/terms/2024-11-20"
    purpose = r["services"][0]["purposes"][0]
    assert purpose["consentType"] == "EXPLICIT" and purpose["purposeCategory"] == ["ads_partners"]
    assert purpose["thirdPartyDisclosure"] is True and purpose["thirdPartyName"] == "Advertising partners"
    for key in ("collectionMethod", "consentReceiptID", "piiControllers", "sensitive", "spiCat", "language"):
        assert key in r


def test_kantara_states_legitimate_interest_in_words(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    r = build_receipt(ReceiptFormat.KANTARA, svc_store.policy(), svc_store.member("us-alice"), event, Controller())
    purpose = r["services"][0]["purposes"][0]
    assert purpose["consentType"] == "EXPLICIT" and purpose["legalBasis"] == "legitimate_interest"
    assert "legal basis: legitimate interest" in purpose["purpose"]


def test_receipt_for_someone_elses_event_is_refused(svc_store: SqlStore) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    with pytest.raises(NotFoundError):
        build_receipt(ReceiptFormat.KANTARA, svc_store.policy(), svc_store.member("us-bob"), event, Controller())
