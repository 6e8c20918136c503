"""Validate OpenLineage events offline: the spec's schemas (tests/pipeline/data/openlineage) and our facet's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from consentry.pipeline.lineage_events import FACET_NAME, FACET_SCHEMA_URL, facet_schema

SPEC = Path(__file__).parent / "data" / "openlineage"
EVENT_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


def _registry() -> Registry:
    schemas = [json.loads(p.read_text()) for p in sorted(SPEC.glob("*.json"))] + [facet_schema()]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


REGISTRY = _registry()


def _validate(url: str, instance: Any) -> None:
    base, _, pointer = url.partition("#")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": f"{base}#{pointer}"}
    Draft202012Validator(schema, registry=REGISTRY).validate(instance)


def _facets(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = [*event["run"].get("facets", {}).values(), *event["job"].get("facets", {}).values()]
    for ds in [*event.get("inputs", []), *event.get("outputs", [])]:
        for key in ("facets", "inputFacets", "outputFacets"):
            found += list((ds.get(key) or {}).values())
    return found


def validate_event(event: dict[str, Any]) -> int:
    """Check a RunEvent against the spec, and every facet against the schema its _schemaURL names
    (which must be one we hold: an unknown facet fails). Returns how many facets were checked."""
    _validate(f"{EVENT_URL}#/$defs/RunEvent", event)
    facets = _facets(event)
    for facet in facets:
        _validate(facet["_schemaURL"], facet)
    return len(facets)


def consent_facet(event: dict[str, Any]) -> dict[str, Any]:
    """The output's consentryConsent facet (checked against our schema's URL)."""
    (output,) = event["outputs"]
    facet: dict[str, Any] = output["facets"][FACET_NAME]
    assert facet["_schemaURL"] == FACET_SCHEMA_URL
    return facet
