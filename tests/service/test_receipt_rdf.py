"""ISO/IEC TS 27560 receipts read by tools nobody here wrote: pyld (JSON-LD), rdflib, pyshacl.

Every field a receipt has must expand to a term (removing it loses at least one
triple), every dpv:/pd: term must be one W3C DPV 2.2 defines, and every kind of
receipt (each source, each legal basis, each status, with history and effect,
an unknown country) conforms to the SHACL shapes shipped in the package.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.namespace import SH

from consentry.receipts.context import CS, DPV, PD, shapes_ttl, vocab_ttl
from consentry.receipts.facts import purpose_history
from consentry.service import member_actions
from consentry.service.receipts import Controller, ReceiptFormat, build_receipt
from consentry.store import SqlStore
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import Choice, Source

T = datetime(2025, 1, 15, tzinfo=UTC)
ISO = ReceiptFormat.ISO27560
DPV_TERMS = set((Path(__file__).parent / "data" / "dpv-2.2-terms.txt").read_text().split())


def _quads(doc: dict[str, Any]) -> list[str]:
    nquads: str = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    return [line for line in nquads.splitlines() if line.strip()]


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field of the receipt (a dict key below the top, list items walked), except @-keywords."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("@"):
                continue
            yield (*path, key)
            yield from _leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaf_paths(value, (*path, i))


def _without(doc: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return out


@pytest.fixture
def receipts(svc_store: SqlStore) -> dict[str, dict[str, Any]]:
    """One ISO receipt of every kind."""
    s = svc_store
    s.add_members([Member("xx-nowhere", None, date(1980, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    li_deny = member_actions.set_choice(s, "us-alice", "genai_training", False, T)
    li_allow = member_actions.set_choice(s, "us-alice", "genai_training", True, T + timedelta(hours=1))
    given = member_actions.set_choice(s, "us-bob", "ads_partners", True, T)
    withdrawn = member_actions.set_choice(s, "us-bob", "ads_partners", False, T + timedelta(hours=1))
    refused = member_actions.set_choice(s, "gb-gary", "ads_partners", False, T)
    gpc = member_actions.honour_gpc(s, "de-dora", T)[0]
    made = {
        "import": s.record(NewEvent("us-alice", "ads_partners", Choice.ALLOW, T, Source.IMPORT, actor="import")),
        "admin": s.record(NewEvent("us-bob", "personalization", Choice.DENY, T, Source.ADMIN, actor="staff-1")),
        "api": s.record(NewEvent("gb-gary", "personalization", Choice.DENY, T, Source.API, actor="gb-gary")),
        "form": s.record(
            NewEvent("de-dora", "content_moderation", Choice.DENY, T, Source.OBJECTION_FORM, "staff-2", case_id="c-1")
        ),
        "unknown_country": s.record(
            NewEvent("xx-nowhere", "personalization", Choice.DENY, T, Source.SETTINGS, actor="xx-nowhere")
        ),
    }
    made |= {"li_deny": li_deny, "li_allow": li_allow, "given": given, "withdrawn": withdrawn}
    made |= {"refused": refused, "gpc": gpc}
    policy, out = s.policy(), {}
    for kind, event in made.items():
        history = purpose_history(s.events(member_id=event.member_id), event)
        out[kind] = build_receipt(ISO, policy, s.member(event.member_id), event, Controller(), history=history)
    # With the effect and history the API adds.
    out["api_li"] = member_actions.choice_receipt(s, "us-alice", li_allow.event_id, ISO, Controller())
    out["api_consent"] = member_actions.choice_receipt(s, "us-bob", withdrawn.event_id, ISO, Controller())
    return out


@pytest.mark.parametrize("kind", ["api_li", "api_consent", "unknown_country"])
def test_every_field_expands_to_a_term(receipts: dict[str, dict[str, Any]], kind: str) -> None:
    receipt = receipts[kind]
    whole = len(_quads(receipt))
    assert whole > 60
    silent = [path for path in _leaf_paths(receipt) if len(_quads(_without(receipt, path))) >= whole]
    assert silent == [], f"fields that yield no triple: {silent}"


def test_every_kind_expands_and_reads_the_same_in_rdflib(receipts: dict[str, dict[str, Any]]) -> None:
    for kind, receipt in receipts.items():
        quads = _quads(receipt)
        graph = Graph().parse(data=receipt, format="json-ld")
        assert len(graph) == len(quads), kind
        assert len(quads) > 40, kind


def test_only_terms_dpv_defines(receipts: dict[str, dict[str, Any]]) -> None:
    used: set[str] = set()
    for receipt in receipts.values():
        graph = Graph().parse(data=receipt, format="json-ld")
        for triple in graph:
            for term in triple:
                text = str(term)
                if text.startswith(DPV):
                    used.add("dpv:" + text.removeprefix(DPV))
                elif text.startswith(PD):
                    used.add("pd:" + text.removeprefix(PD))
    assert used and used - DPV_TERMS == set()
    assert {"dpv:LegitimateInterestObjected", "dpv:ConsentRefused", "dpv:ObjectingToProcess"} <= used


def test_our_own_terms_are_in_the_published_vocabulary(receipts: dict[str, dict[str, Any]]) -> None:
    vocab = Graph().parse(data=vocab_ttl(), format="turtle")
    defined = {str(s) for s in vocab.subjects() if str(s).startswith(CS)}
    used = set()
    for receipt in receipts.values():
        for triple in Graph().parse(data=receipt, format="json-ld"):
            used |= {str(t) for t in triple if str(t).startswith(CS)}
    assert used and used - defined == set()


def test_every_kind_conforms_to_the_shipped_shapes(receipts: dict[str, dict[str, Any]]) -> None:
    from pyshacl import validate

    shapes = Graph().parse(data=shapes_ttl(), format="turtle")
    data = Graph()
    for receipt in receipts.values():
        data.parse(data=receipt, format="json-ld")
    conforms, _, text = validate(data, shacl_graph=shapes)
    assert conforms, text


def test_the_shapes_catch_a_receipt_missing_its_evidence(receipts: dict[str, dict[str, Any]]) -> None:
    from pyshacl import validate

    broken = copy.deepcopy(receipts["api_consent"])
    del broken["event"]["evidence"]
    broken["event"]["choice"] = "maybe"
    del broken["withdrawal"]
    conforms, results, _ = validate(
        Graph().parse(data=broken, format="json-ld"), shacl_graph=Graph().parse(data=shapes_ttl(), format="turtle")
    )
    assert not conforms
    paths = {str(p) for p in results.objects(None, SH.resultPath)}
    assert {CS + "evidence", CS + "choice"} <= paths
    assert any(str(c).endswith("XoneConstraintComponent") for c in results.objects(None, SH.sourceConstraintComponent))
