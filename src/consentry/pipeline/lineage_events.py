"""OpenLineage RunEvents for a build, as the `openlineage-python` client's objects.

Imported only when lineage is emitted or shown (`consentry.pipeline.lineage_run` loads it),
so a build without lineage never imports the client. Every event names the same run
(the build's `run_id`, kept in its manifest) and job (``build.<purpose>`` in the
configured namespace). Inputs are the sources as given, each with the schema the build
reads from it; the output is OUT, with its schema, column lineage and the
`consentryConsent` facet (schema: `FACET_SCHEMA_FILE`, published in the package).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, ClassVar

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    column_lineage_dataset,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    processing_engine_run,
    schema_dataset,
)
from openlineage.client.serde import Serde

import consentry
from consentry.pipeline.lineage_run import RunInfo

__all__ = [
    "FACET_NAME",
    "FACET_SCHEMA_FILE",
    "FACET_SCHEMA_URL",
    "ConsentryConsentDatasetFacet",
    "RunInfo",
    "complete_event",
    "event_json",
    "facet_schema",
    "fail_event",
    "start_event",
]

FACET_NAME = "consentryConsent"
FACET_SCHEMA_FILE = "ConsentryConsentDatasetFacet.json"
FACET_SCHEMA_URL = (
    "https://consentry.dev/spec/facets/1-0-0/ConsentryConsentDatasetFacet.json#/$defs/ConsentryConsentDatasetFacet"
)
PRODUCER = f"https://consentry.dev/releases/{consentry.__version__}"

#: output column -> (source column, how it is derived when the build scrubs, when it does not)
_DERIVED = {
    "record_id": ("record_id", "IDENTITY", "IDENTITY"),
    "member_key": ("member_id", "MASKED", "MASKED"),
    "kind": ("kind", "IDENTITY", "IDENTITY"),
    "created_at": ("created_at", "IDENTITY", "IDENTITY"),
    "text": ("text", "MASKED", "IDENTITY"),
}
_DESCRIBED = {
    "member_key": "HMAC-SHA256 of member_id with the pseudonym key (a keyed hash)",
    "text": "PII scrubbed: personal data replaced by placeholders and keyed pseudonyms",
}
#: source columns the build filters on (the rules' record-level and member-level checks)
_FILTERS = ("member_id", "kind", "visibility", "created_at", "deleted_at", "record_id", "text")


@attr.define
class ConsentryConsentDatasetFacet(DatasetFacet):
    """What the build decided about the records in the dataset (schema: `FACET_SCHEMA_FILE`)."""

    purpose: str
    policy: dict[str, Any]
    ledger: dict[str, Any]
    asOf: str
    decidedAt: str
    counts: dict[str, Any]
    members: int
    membersDigest: str
    scrubber: dict[str, Any]
    manifestSha256: str | None = attr.field(default=None)
    _additional_skip_redact: ClassVar[list[str]] = ["purpose", "policy", "ledger", "counts", "membersDigest"]

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA_URL


def facet_schema() -> dict[str, Any]:
    """The `consentryConsent` facet's JSON schema, as shipped in the package."""
    text = resources.files("consentry.pipeline").joinpath("schemas", FACET_SCHEMA_FILE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _run(info: RunInfo, extra: Mapping[str, Any] | None = None) -> Run:
    facets: dict[str, Any] = {
        "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime=info.as_of, producer=PRODUCER),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=consentry.__version__, name=f"consentry ({info.engine} engine)", producer=PRODUCER
        ),
        **(extra or {}),
    }
    return Run(runId=info.run_id, facets=facets)


def _job(info: RunInfo) -> Job:
    kind = job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="CONSENTRY", jobType="BUILD", producer=PRODUCER
    )
    return Job(namespace=info.namespace, name=info.job, facets={"jobType": kind})


def _inputs(info: RunInfo) -> list[InputDataset]:
    fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in info.input_columns]
    return [
        InputDataset(
            namespace=ns,
            name=name,
            facets={"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)},
        )
        for ns, name in info.inputs
    ]


def _column_lineage(
    info: RunInfo, columns: Sequence[tuple[str, str]]
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    cl = column_lineage_dataset
    fields: dict[str, Any] = {}
    for name, _ in columns:
        source, scrubbed_kind, plain_kind = _DERIVED.get(name, (name, "IDENTITY", "IDENTITY"))
        kind = scrubbed_kind if info.scrubbed else plain_kind
        masked = kind == "MASKED"
        how = cl.Transformation(
            type="DIRECT",
            subtype="TRANSFORMATION" if masked else "IDENTITY",
            description=_DESCRIBED.get(name) if masked else None,
            masking=masked,
        )
        inputs = [cl.InputField(namespace=ns, name=n, field=source, transformations=[how]) for ns, n in info.inputs]
        fields[name] = cl.Fields(
            inputFields=inputs,
            transformationType=kind,
            transformationDescription=_DESCRIBED.get(name) if masked else None,
        )
    filtering = cl.Transformation(
        type="INDIRECT", subtype="FILTER", description="consent rules of the policy and ledger"
    )
    dataset = [
        cl.InputField(namespace=ns, name=n, field=f, transformations=[filtering])
        for ns, n in info.inputs
        for f in _FILTERS
    ]
    return cl.ColumnLineageDatasetFacet(fields=fields, dataset=dataset, producer=PRODUCER)


def start_event(info: RunInfo, at: str) -> RunEvent:
    """START: the run, the job, the sources with their schema, and OUT (not yet written)."""
    return RunEvent(
        eventType=RunState.START,
        eventTime=at,
        run=_run(info),
        job=_job(info),
        inputs=_inputs(info),
        outputs=[OutputDataset(namespace=info.output[0], name=info.output[1])],
        producer=PRODUCER,
    )


def fail_event(info: RunInfo, at: str, message: str) -> RunEvent:
    """FAIL: the error's one-line message (it names files and fields, never personal data)."""
    error = error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="PYTHON", producer=PRODUCER)
    return RunEvent(
        eventType=RunState.FAIL,
        eventTime=at,
        run=_run(info, {"errorMessage": error}),
        job=_job(info),
        inputs=_inputs(info),
        outputs=[],
        producer=PRODUCER,
    )


def complete_event(
    info: RunInfo, at: str, manifest: Mapping[str, Any], columns: Sequence[tuple[str, str]], manifest_sha256: str | None
) -> RunEvent:
    """COMPLETE: OUT with its schema, column lineage, row and byte counts, and the `consentryConsent` facet."""
    files = manifest["files"]
    facets: dict[str, Any] = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns], producer=PRODUCER
        ),
        "columnLineage": _column_lineage(info, columns),
        FACET_NAME: consent_facet(manifest, manifest_sha256),
    }
    statistics = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=sum(int(f["rows"]) for f in files),
        size=sum(int(f["bytes"]) for f in files),
        fileCount=len(files),
        producer=PRODUCER,
    )
    output = OutputDataset(
        namespace=info.output[0], name=info.output[1], facets=facets, outputFacets={"outputStatistics": statistics}
    )
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=at,
        run=_run(info),
        job=_job(info),
        inputs=_inputs(info),
        outputs=[output],
        producer=PRODUCER,
    )


def consent_facet(manifest: Mapping[str, Any], manifest_sha256: str | None) -> ConsentryConsentDatasetFacet:
    """The `consentryConsent` facet from a build's manifest."""
    scrubber = manifest.get("scrubber") or {"enabled": False}
    counts = manifest["counts"]
    policy = manifest["policy"]
    return ConsentryConsentDatasetFacet(
        purpose=manifest["purpose"],
        policy={
            "name": policy["name"],
            "version": policy.get("version"),
            "sha256": policy.get("sha256"),
            "legalBasis": policy.get("legal_basis"),
        },
        ledger={"headHash": manifest["ledger"]["head_hash"], "events": manifest["ledger"]["events"]},
        asOf=manifest["as_of"],
        decidedAt=manifest["decided_at"],
        counts={
            "input": counts["input"],
            "included": counts["included"],
            "excluded": dict(counts["excluded"]),
            **({"reserved_by_signal": dict(counts["reserved_by_signal"])} if "reserved_by_signal" in counts else {}),
        },
        members=manifest["members"],
        membersDigest=manifest["members_digest"],
        scrubber={
            "enabled": bool(scrubber.get("enabled")),
            "release": scrubber.get("version"),
            "findings": dict(manifest.get("pii") or {}),
            "failed": int(counts["excluded"].get("SCRUB_FAILED", 0)),
        },
        manifestSha256=manifest_sha256,
        producer=PRODUCER,
    )


def event_json(event: RunEvent) -> dict[str, Any]:
    """The event as the client sends it (JSON data)."""
    data: dict[str, Any] = json.loads(Serde.to_json(event))
    return data
