"""The JSON-LD context of ISO/IEC TS 27560 receipts: every field a receipt has maps to a term.

Terms come from W3C DPV 2.2 (`dpv:`, personal-data categories `pd:`, locations
`loc:`), Dublin Core (`dct:`), schema.org (`schema:`), SKOS and RDF. What DPV
has no concept for (the ledger evidence, the member's choice as recorded, what
the choice did) is in Consentry's own namespace, `cs:` (`urn:consentry:receipt#`),
whose vocabulary ships beside this module (`vocab.ttl`) and is served at
`/ns/receipt.ttl`.

The status of a choice is `dpv:hasConsentStatus` under consent and
`dpv:hasStatus` (a DPV legitimate-interest status) under legitimate interest:
`context(basis)` gives the context for the purpose's legal basis.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from consentry.vocab import LegalBasis

__all__ = ["CS", "DPV", "LOC", "PD", "SCHEMA_27560", "context", "shapes_ttl", "vocab_ttl"]

DPV = "https://w3id.org/dpv#"
PD = "https://w3id.org/dpv/pd#"
LOC = "https://w3id.org/dpv/loc#"
CS = "urn:consentry:receipt#"
# The DPV-27560 profile for receipts that carry a copy of the consent record.
SCHEMA_27560 = "https://w3id.org/dpv/schema/dpv-27560#receipt-record"

_IRI = {"@type": "@id"}
_DATETIME = {"@type": "xsd:dateTime"}

_TERMS: dict[str, Any] = {
    "@version": 1.1,
    "dpv": DPV,
    "pd": PD,
    "loc": LOC,
    "cs": CS,
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    # the record
    "schema_version": {"@id": "dct:conformsTo", **_IRI},
    "record_id": "dct:identifier",
    "created": {"@id": "dct:created", **_DATETIME},
    "data_subject": "dpv:hasDataSubject",
    "controller": "dpv:hasDataController",
    "notice": "dpv:hasNotice",
    "purpose": "dpv:hasPurpose",
    "legal_basis": {"@id": "dpv:hasLegalBasis", **_IRI},
    "jurisdiction": "dpv:hasJurisdiction",
    "personal_data": "dpv:hasPersonalData",
    "operations": {"@id": "dpv:hasProcessing", **_IRI},
    "storage": "dpv:hasStorageCondition",
    "processing_conditions": "dpv:hasProcessingCondition",
    "recipients": "dpv:hasRecipient",
    "withdrawal": "dpv:hasConsentControl",
    "objection": "dpv:hasEntityInvolvement",
    "rights": "dpv:hasRight",
    "authority": "dpv:hasAuthority",
    "effect": "cs:effect",
    # entities, notices, purposes, conditions
    "id": "dct:identifier",
    "name": "dpv:hasName",
    "contact": "dpv:hasContact",
    "email": "schema:email",
    "address": "dpv:hasAddress",
    "url": {"@id": "schema:url", **_IRI},
    "policy": "cs:policy",
    "version": "schema:version",
    "sha256": "cs:sha256",
    "published_at": {"@id": "dct:issued", **_DATETIME},
    "language": "dct:language",
    "label": "dct:title",
    "description": "dct:description",
    "category": {"@id": "skos:broader", **_IRI},
    "location": {"@id": "dpv:hasLocation", **_IRI},
    "duration": "dpv:hasDuration",
    "value": "rdf:value",
    "exercised_at": {"@id": "dpv:isExercisedAt", **_IRI},
    # a choice (the receipt's event, and each event of the history)
    "time": {"@id": "dpv:isIndicatedAtTime", **_DATETIME},
    "indicated_by": {"@id": "dpv:isIndicatedBy", **_IRI},
    "method": "dpv:hasIndicationMethod",
    "validity": "dpv:hasDuration",
    "recorded_at": {"@id": "cs:recordedAt", **_DATETIME},
    "source": "cs:source",
    "actor": "cs:actor",
    "choice": "cs:choice",
    "event_type": "cs:eventType",
    "evidence": "cs:evidence",
    "ledger_event_id": {"@id": "cs:ledgerEventId", "@type": "xsd:integer"},
    "hash": "cs:chainHash",
    "prev_hash": "cs:previousHash",
    "case_id": "cs:objectionCase",
    # what the choice did
    "as_of": {"@id": "cs:asOf", **_DATETIME},
    "data_used": "cs:dataUsed",
    "reason": "cs:reason",
    "reason_label": "cs:reasonLabel",
}


def context(basis: LegalBasis) -> dict[str, Any]:
    """The JSON-LD context of a receipt for a purpose under `basis`."""
    status = "dpv:hasConsentStatus" if basis is LegalBasis.CONSENT else "dpv:hasStatus"
    return {**_TERMS, "event": status, "history": status}


def _packaged(name: str) -> str:
    return resources.files("consentry.receipts").joinpath(name).read_text(encoding="utf-8")


def shapes_ttl() -> str:
    """The SHACL shapes every ISO/IEC TS 27560 receipt conforms to (Turtle)."""
    return _packaged("shapes.ttl")


def vocab_ttl() -> str:
    """Consentry's receipt vocabulary, the `cs:` terms (RDF Schema, Turtle)."""
    return _packaged("vocab.ttl")
